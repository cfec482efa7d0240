import { runeCount } from '../lib/gofmt/fmt.js'
/**
 * Go's text/tabwriter (elastic tabstops), as the docker CLI uses it for table output:
 *
 *   const tw = new TabWriter(10, 1, 3, ' ', 0)   // tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
 *   tw.write('CONTAINER ID\tNAMES\n')
 *   tw.write('0123456789ab\tweb\n')
 *   process.stdout.write(tw.flush())
 *
 * Cells are terminated by '\t' (or '\v'); a line ends at '\n' (or '\f', which also flushes).
 * Tab-terminated cells in contiguous lines form a column as wide as its widest cell plus
 * padding (at least minwidth). Text after the last tab of a line is not part of any column and
 * is never padded. A line without tabs ends every column above it.
 *
 * Cell widths are measured like docker's fork of the package (go-runewidth): East Asian wide
 * characters count two, combining marks and control characters zero. Go's own package counts
 * runes; pass `{ width: runeCount }` for that. Go's Escape character (byte 0xff) has no
 * equivalent in a JavaScript string and is not supported.
 */

/** Ignore html tags and treat entities (starting with '&' and ending in ';') as single characters. */
export const FilterHTML = 1
/** Strip Escape characters bracketing escaped text segments (unsupported; kept for parity). */
export const StripEscape = 2
/** Force right-alignment of cell content. */
export const AlignRight = 4
/** Handle empty columns as if they were not present in the input in the first place. */
export const DiscardEmptyColumns = 8
/** Always use tabs for indentation columns (leading empty cells) independent of padchar. */
export const TabIndent = 16
/** Print a vertical bar ('|') between columns (after formatting). */
export const Debug = 32

interface Cell {
  text: string // the cell's text (Go keeps one buffer and sizes; per-cell strings avoid re-scanning it)
  width: number // cell width in columns
  htab: boolean // true if the cell is terminated by an htab ('\t')
}

/** Counts code points (Go's utf8.RuneCountInString). */
export { runeCount }

// East Asian Wide (W) and Fullwidth (F) ranges, plus emoji presentation: width 2.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0],
  [0x23f3, 0x23f3], [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f],
  [0x2693, 0x2693], [0x26a1, 0x26a1], [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5],
  [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea], [0x26f2, 0x26f3], [0x26f5, 0x26f5],
  [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b], [0x2728, 0x2728],
  [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55],
  [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf],
  [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f],
  [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4], [0x17000, 0x18aff], [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a], [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f900, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x3fffd],
]

const zeroWidthRe = /^[\p{Mn}\p{Me}\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]$/u

function isWide(cp: number): boolean {
  let lo = 0
  let hi = WIDE.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const [a, b] = WIDE[mid]!
    if (cp < a) hi = mid - 1
    else if (cp > b) lo = mid + 1
    else return true
  }
  return false
}

/** Display width in terminal columns, as go-runewidth's StringWidth measures it. */
export function displayWidth(s: string): number {
  let ascii = true
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c > 0x7e) {
      ascii = false
      break
    }
  }
  if (ascii) return s.length
  let w = 0
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue
    if (cp < 0x300) {
      w++
      continue
    }
    if (zeroWidthRe.test(ch)) continue
    w += isWide(cp) ? 2 : 1
  }
  return w
}

export interface TabWriterOptions {
  /** How wide a cell's text is; defaults to displayWidth (docker's measure). */
  width?: (text: string) => number
}

export class TabWriter {
  readonly minwidth: number
  readonly tabwidth: number
  readonly padding: number
  readonly padchar: string
  readonly flags: number
  readonly #width: (text: string) => number

  #out = ''
  #pos = 0 // position in the incomplete cell's text up to which its width has been computed
  #cell: Cell = { text: '', width: 0, htab: false }
  #endChar = '' // terminating char of escaped sequence ('>' or ';' for HTML tags/entities)
  #lines: Cell[][] = [[]]
  #widths: number[] = []

  /** tabwriter.NewWriter(output, minwidth, tabwidth, padding, padchar, flags). */
  constructor(minwidth: number, tabwidth: number, padding: number, padchar: string, flags = 0, opts: TabWriterOptions = {}) {
    if (minwidth < 0 || tabwidth < 0 || padding < 0) throw new Error('negative minwidth, tabwidth, or padding')
    if (padchar.length !== 1) throw new Error('padchar must be a single character')
    this.minwidth = minwidth
    this.tabwidth = tabwidth
    this.padding = padding
    this.padchar = padchar
    if (padchar === '\t') flags &= ~AlignRight // tab padding enforces left-alignment
    this.flags = flags
    this.#width = opts.width ?? displayWidth
  }

  #reset(): void {
    this.#pos = 0
    this.#cell = { text: '', width: 0, htab: false }
    this.#endChar = ''
    this.#lines = [[]]
    this.#widths = []
  }

  #writePadding(textw: number, cellw: number, useTabs: boolean): void {
    if (this.padchar === '\t' || useTabs) {
      // padding is done with tabs
      if (this.tabwidth === 0) return // tabs have no width - can't do any padding
      // make cellw the smallest multiple of b.tabwidth
      cellw = Math.floor((cellw + this.tabwidth - 1) / this.tabwidth) * this.tabwidth
      const n = cellw - textw // amount of padding
      if (n < 0) throw new Error('tabwriter: internal error')
      this.#out += '\t'.repeat(Math.floor((n + this.tabwidth - 1) / this.tabwidth))
      return
    }
    // padding is done with non-tab characters
    if (cellw > textw) this.#out += this.padchar.repeat(cellw - textw)
  }

  #writeLines(line0: number, line1: number): void {
    const widths = this.#widths
    for (let i = line0; i < line1; i++) {
      const line = this.#lines[i]!
      // if TabIndent is set, use tabs to pad leading empty cells
      let useTabs = (this.flags & TabIndent) !== 0
      for (let j = 0; j < line.length; j++) {
        const c = line[j]!
        if (j > 0 && this.flags & Debug) this.#out += '|' // indicate column break
        if (c.text.length === 0) {
          // empty cell
          if (j < widths.length) this.#writePadding(c.width, widths[j]!, useTabs)
        } else {
          // non-empty cell
          useTabs = false
          if ((this.flags & AlignRight) === 0) {
            this.#out += c.text
            if (j < widths.length) this.#writePadding(c.width, widths[j]!, false)
          } else {
            if (j < widths.length) this.#writePadding(c.width, widths[j]!, false)
            this.#out += c.text
          }
        }
      }
      if (i + 1 === this.#lines.length) {
        // last buffered line - we don't have a newline, so just write any outstanding buffered data
        this.#out += this.#cell.text
      } else {
        this.#out += '\n'
      }
    }
  }

  /** Formats the lines from line0 to line1 (excluding line1). */
  #format(line0: number, line1: number): void {
    const column = this.#widths.length
    for (let t = line0; t < line1; t++) {
      let line = this.#lines[t]!
      if (column >= line.length - 1) continue
      // cell exists in this column => this line has more cells than the previous line (the last
      // cell per line is ignored because cells are tab-terminated; the last cell per line
      // describes the text before the newline/formfeed and does not belong to a column)

      // print unprinted lines until beginning of block
      this.#writeLines(line0, t)
      line0 = t

      // column block begin
      let width = this.minwidth // minimal column width
      let discardable = true // true if all cells in this column are empty and "soft"
      for (; t < line1; t++) {
        line = this.#lines[t]!
        if (column >= line.length - 1) break
        // cell exists in this column
        const c = line[column]!
        const w = c.width + this.padding
        if (w > width) width = w
        if (c.width > 0 || c.htab) discardable = false
      }
      // column block end

      // discard empty columns if necessary
      if (discardable && this.flags & DiscardEmptyColumns) width = 0

      // format and print all columns to the right of this column
      // (we know the widths of this column and all columns to the left)
      this.#widths.push(width)
      this.#format(line0, t)
      this.#widths.pop()
      line0 = t
    }
    // print unprinted lines until end
    this.#writeLines(line0, line1)
  }

  #append(text: string): void {
    if (text) this.#cell.text += text
  }

  #updateWidth(): void {
    const text = this.#cell.text
    if (this.#pos < text.length) this.#cell.width += this.#width(this.#pos === 0 ? text : text.slice(this.#pos))
    this.#pos = text.length
  }

  #endEscape(): void {
    if (this.#endChar === ';') this.#cell.width++ // entity, count as one rune
    // '>': tag of zero width
    this.#pos = this.#cell.text.length
    this.#endChar = ''
  }

  #terminateCell(htab: boolean): number {
    this.#cell.htab = htab
    const line = this.#lines[this.#lines.length - 1]!
    line.push(this.#cell)
    this.#cell = { text: '', width: 0, htab: false }
    this.#pos = 0
    return line.length
  }

  #flushInternal(): void {
    // add current cell if not empty
    if (this.#cell.text.length > 0) {
      if (this.#endChar !== '') this.#endEscape() // inside escape - terminate it even if incomplete
      this.#terminateCell(false)
    }
    // format contents of buffer
    this.#format(0, this.#lines.length)
    this.#reset()
  }

  /** Writes text; output becomes available as lines complete columns (see flush). */
  write(text: string): this {
    let n = 0
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!
      if (this.#endChar === '') {
        // outside escape
        if (ch === '\t' || ch === '\v' || ch === '\n' || ch === '\f') {
          // end of cell
          this.#append(text.slice(n, i))
          this.#updateWidth()
          n = i + 1 // ch consumed
          const ncells = this.#terminateCell(ch === '\t')
          if (ch === '\n' || ch === '\f') {
            // terminate line
            this.#lines.push([])
            if (ch === '\f' || ncells === 1) {
              // A '\f' always forces a flush. Otherwise, if the previous line has only one cell
              // which does not have an impact on the formatting of the following lines (the
              // last cell per line is ignored by format()), thus we can flush the contents.
              this.#flushInternal()
              if (ch === '\f' && this.flags & Debug) this.#out += '---\n' // indicate section break
            }
          }
        } else if ((ch === '<' || ch === '&') && this.flags & FilterHTML) {
          // begin of tag/entity
          this.#append(text.slice(n, i))
          this.#updateWidth()
          n = i
          this.#endChar = ch === '<' ? '>' : ';'
        }
      } else if (ch === this.#endChar) {
        // end of tag/entity
        this.#append(text.slice(n, i + 1))
        n = i + 1 // ch consumed
        this.#endEscape()
      }
    }
    // append leftover text
    this.#append(text.slice(n))
    return this
  }

  /**
   * Formats everything buffered (an incomplete last line included, without adding a newline)
   * and returns all output produced since the previous flush.
   */
  flush(): string {
    this.#flushInternal()
    const out = this.#out
    this.#out = ''
    return out
  }
}

/** Aligns tab-separated text the way docker prints tables: NewWriter(out, 10, 1, 3, ' ', 0). */
export function formatTable(text: string): string {
  return new TabWriter(10, 1, 3, ' ', 0).write(text).flush()
}
