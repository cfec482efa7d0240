/**
 * Parse-tree nodes of text/template/parse, and their String() forms (error messages quote them:
 * `executing "" at <.Foo>`).
 */
import { GoComplex } from '../../lib/gofmt/values.js'
import { QuoteSyntaxError, quote, unquoteCharAt } from '../../lib/gofmt/fmt.js'

export interface ListNode {
  type: 'list'
  pos: number
  nodes: Node[]
}
export interface TextNode {
  type: 'text'
  pos: number
  text: string
}
export interface CommentNode {
  type: 'comment'
  pos: number
  text: string
}
export interface PipeNode {
  type: 'pipe'
  pos: number
  line: number
  isAssign: boolean
  decl: VariableNode[]
  cmds: CommandNode[]
}
export interface ActionNode {
  type: 'action'
  pos: number
  line: number
  pipe: PipeNode
}
export interface CommandNode {
  type: 'command'
  pos: number
  args: Node[]
}
export interface IdentifierNode {
  type: 'identifier'
  pos: number
  ident: string
}
export interface VariableNode {
  type: 'variable'
  pos: number
  ident: string[]
}
export interface DotNode {
  type: 'dot'
  pos: number
}
export interface NilNode {
  type: 'nil'
  pos: number
}
export interface FieldNode {
  type: 'field'
  pos: number
  ident: string[]
}
export interface ChainNode {
  type: 'chain'
  pos: number
  node: Node
  field: string[]
}
export interface BoolNode {
  type: 'bool'
  pos: number
  value: boolean
}
export interface NumberNode {
  type: 'number'
  pos: number
  isInt: boolean
  isUint: boolean
  isFloat: boolean
  isComplex: boolean
  int: bigint
  uint: bigint
  float: number
  complex: GoComplex
  text: string
}
export interface StringNode {
  type: 'string'
  pos: number
  quoted: string
  text: string
}
export interface BranchNode {
  type: 'if' | 'range' | 'with'
  pos: number
  line: number
  pipe: PipeNode
  list: ListNode
  elseList: ListNode | null
}
export interface TemplateNode {
  type: 'template'
  pos: number
  line: number
  name: string
  pipe: PipeNode | null
}
export interface BreakNode {
  type: 'break'
  pos: number
  line: number
}
export interface ContinueNode {
  type: 'continue'
  pos: number
  line: number
}
/** {{end}} and {{else}}: returned by the parser's item lists, never kept in the tree. */
export interface EndNode {
  type: 'end'
  pos: number
}
export interface ElseNode {
  type: 'else'
  pos: number
  line: number
}

export type Node =
  | ListNode
  | TextNode
  | CommentNode
  | PipeNode
  | ActionNode
  | CommandNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | BranchNode
  | TemplateNode
  | BreakNode
  | ContinueNode
  | EndNode
  | ElseNode

/** node.String(): the template source a node stands for, as Go prints it. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('')
    case 'text':
      return n.text
    case 'comment':
      return '{{' + n.text + '}}'
    case 'pipe': {
      let s = ''
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(', ') + ' := '
      return s + n.cmds.map(nodeString).join(' | ')
    }
    case 'action':
      return '{{' + nodeString(n.pipe) + '}}'
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? '(' + nodeString(a) + ')' : nodeString(a))).join(' ')
    case 'identifier':
      return n.ident
    case 'variable':
      return n.ident.join('.')
    case 'dot':
      return '.'
    case 'nil':
      return 'nil'
    case 'field':
      return n.ident.map((id) => '.' + id).join('')
    case 'chain': {
      const head = n.node.type === 'pipe' ? '(' + nodeString(n.node) + ')' : nodeString(n.node)
      return head + n.field.map((f) => '.' + f).join('')
    }
    case 'bool':
      return n.value ? 'true' : 'false'
    case 'number':
      return n.text
    case 'string':
      return n.quoted
    case 'if':
    case 'range':
    case 'with': {
      let s = '{{' + n.type + ' ' + nodeString(n.pipe) + '}}' + nodeString(n.list)
      if (n.elseList) s += '{{else}}' + nodeString(n.elseList)
      return s + '{{end}}'
    }
    case 'template':
      return '{{template ' + quote(n.name) + (n.pipe ? ' ' + nodeString(n.pipe) : '') + '}}'
    case 'break':
      return '{{break}}'
    case 'continue':
      return '{{continue}}'
    case 'end':
      return '{{end}}'
    case 'else':
      return '{{else}}'
  }
}

/** Reports whether a tree holds nothing but space and comments (parse.IsEmptyTree). */
export function isEmptyTree(n: Node | null): boolean {
  if (!n) return true
  switch (n.type) {
    case 'comment':
      return true
    case 'list':
      return n.nodes.every(isEmptyTree)
    case 'text':
      return n.text.trim() === ''
    default:
      return false
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers (parse.newNumber)

function underscoreOK(s: string): boolean {
  let saw = '^'
  let i = 0
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1)
  let hex = false
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2
    saw = '0'
    hex = s[1] === 'x' || s[1] === 'X'
  }
  for (; i < s.length; i++) {
    const c = s[i]!
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0'
      continue
    }
    if (c === '_') {
      if (saw !== '0') return false
      saw = '_'
      continue
    }
    if (saw === '_') return false
    saw = '!'
  }
  return saw !== '_'
}

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const UINT64_MAX = (1n << 64n) - 1n

/** strconv.ParseInt/ParseUint with base 0, as a bigint (range checks are the caller's). */
function parseIntBase0(text: string): bigint | null {
  let s = text
  let neg = false
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-'
    s = s.slice(1)
  }
  if (s === '') return null
  let base = 10
  let digits = s
  if (s.length >= 2 && s[0] === '0') {
    const p = s[1]!.toLowerCase()
    if (p === 'x') {
      base = 16
      digits = s.slice(2)
    } else if (p === 'o') {
      base = 8
      digits = s.slice(2)
    } else if (p === 'b') {
      base = 2
      digits = s.slice(2)
    } else {
      base = 8
      digits = s.slice(1)
    }
  }
  if (digits.includes('_')) {
    if (!underscoreOK(text)) return null
    digits = digits.replaceAll('_', '')
  }
  if (digits === '') return null
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 10 ? /^[0-9]+$/ : base === 8 ? /^[0-7]+$/ : /^[01]+$/
  if (!valid.test(digits)) return null
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : ''
  const v = BigInt(prefix + digits)
  return neg ? -v : v
}

/** strconv.ParseFloat(text, 64) for the shapes the lexer produces; null when it fails. */
function parseFloat64(text: string): number | null {
  let s = text
  if (s.includes('_')) {
    if (!underscoreOK(s)) return null
    s = s.replaceAll('_', '')
  }
  let sign = 1
  if (s[0] === '+' || s[0] === '-') {
    if (s[0] === '-') sign = -1
    s = s.slice(1)
  }
  let v: number
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s)
  if (hex) {
    const int = hex[1] ?? ''
    const frac = hex[2] ?? ''
    if (int === '' && frac === '') return null
    const mant = parseInt((int + frac) || '0', 16)
    v = mant * Math.pow(2, Number(hex[3]) - 4 * frac.length)
  } else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    v = Number(s)
  } else {
    return null
  }
  if (!Number.isFinite(v)) return null
  return sign * v
}

function parseComplex(text: string): GoComplex | null {
  // Split "re+imi" at the sign that starts the imaginary part (not one inside an exponent).
  for (let i = text.length - 2; i > 0; i--) {
    const c = text[i]
    if ((c === '+' || c === '-') && !/[eEpP]/.test(text[i - 1]!)) {
      const re = parseFloat64(text.slice(0, i))
      const im = parseFloat64(text.slice(i, -1))
      if (re === null || im === null) return null
      return new GoComplex(re, im)
    }
  }
  return null
}

/** parse.newNumber: the number's value under every type that can hold it. */
export function newNumber(pos: number, text: string, kind: 'char' | 'complex' | 'number'): NumberNode {
  const n: NumberNode = {
    type: 'number',
    pos,
    isInt: false,
    isUint: false,
    isFloat: false,
    isComplex: false,
    int: 0n,
    uint: 0n,
    float: 0,
    complex: new GoComplex(0, 0),
    text,
  }
  const simplifyComplex = (): void => {
    n.isFloat = n.complex.im === 0
    if (n.isFloat) {
      n.float = n.complex.re
      n.isInt = Number.isInteger(n.float) && Math.abs(n.float) < 2 ** 63
      if (n.isInt) n.int = BigInt(n.float)
      n.isUint = Number.isInteger(n.float) && n.float >= 0 && n.float < 2 ** 64
      if (n.isUint) n.uint = BigInt(n.float)
    }
  }
  if (kind === 'char') {
    let r: { value: number; next: number }
    try {
      r = unquoteCharAt(text, 1, "'")
    } catch (err) {
      if (err instanceof QuoteSyntaxError) throw new Error('invalid syntax')
      throw err
    }
    if (text.slice(r.next) !== "'") throw new Error(`malformed character constant: ${text}`)
    n.int = n.uint = BigInt(r.value)
    n.isInt = n.isUint = n.isFloat = true
    n.float = r.value
    return n
  }
  if (kind === 'complex') {
    const c = parseComplex(text)
    if (!c) throw new Error(`illegal number syntax: ${quote(text)}`)
    n.isComplex = true
    n.complex = c
    simplifyComplex()
    return n
  }
  // Imaginary constants can only be complex unless they are zero.
  if (text.endsWith('i')) {
    const f = parseFloat64(text.slice(0, -1))
    if (f !== null) {
      n.isComplex = true
      n.complex = new GoComplex(0, f)
      simplifyComplex()
      return n
    }
  }
  const v = parseIntBase0(text)
  if (v !== null) {
    if (v >= 0n && v <= UINT64_MAX && text[0] !== '-' && text[0] !== '+') {
      n.isUint = true
      n.uint = v
    }
    if (v >= INT64_MIN && v <= INT64_MAX) {
      n.isInt = true
      n.int = v
      if (v === 0n) {
        n.isUint = true // in case of -0.
        n.uint = 0n
      }
    }
  }
  if (n.isInt) {
    n.isFloat = true
    n.float = Number(n.int)
  } else if (n.isUint) {
    n.isFloat = true
    n.float = Number(n.uint)
  } else {
    const f = parseFloat64(text)
    if (f !== null) {
      // Parsed as a float but looks like an integer: a huge number too large for an int.
      if (!/[.eEpP]/.test(text)) throw new Error(`integer overflow: ${quote(text)}`)
      n.isFloat = true
      n.float = f
      if (!n.isInt && Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
        n.isInt = true
        n.int = BigInt(f)
      }
      if (!n.isUint && Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
        n.isUint = true
        n.uint = BigInt(f)
      }
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new Error(`illegal number syntax: ${quote(text)}`)
  return n
}
