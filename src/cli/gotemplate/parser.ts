/**
 * The parser of Go's text/template/parse: a recursive-descent port of parse.go with the same
 * three-token lookahead, the same variable scoping and the same error messages
 * ("template: NAME:LINE: unexpected ... in ...").
 */
import { TemplateError } from './errors.js'
import { quote, sprintf, unquote } from '../../lib/gofmt/fmt.js'
import { type Item, ItemType, Lexer, itemString } from './lexer.js'
import {
  type BranchNode,
  type CommandNode,
  type ListNode,
  type Node,
  type PipeNode,
  type TemplateNode,
  type VariableNode,
  isEmptyTree,
  newNumber,
  nodeString,
} from './nodes.js'

export interface ParseOptions {
  /** Name of the top-level template ("" for docker's formats). */
  name?: string
  leftDelim?: string
  rightDelim?: string
  /** Reports whether a function name is defined; unknown names are parse errors. */
  hasFunction: (name: string) => boolean
  /** Keep comments in the tree (parse.ParseComments). */
  parseComments?: boolean
  /** Skip the check that functions are defined (parse.SkipFuncCheck). */
  skipFuncCheck?: boolean
}

/** The trees of one parse, by template name. */
export type TreeSet = Map<string, ListNode>

const MAX_STACK_DEPTH = 10000
const MAX_PIPELINE_CMDS = 100000

class Abort {
  constructor(readonly err: TemplateError) {}
}

class Tree {
  name: string
  parseName: string
  root: ListNode | null = null
  lex!: Lexer
  token: Item[] = []
  peekCount = 0
  vars: string[] = ['$']
  treeSet!: Map<string, Tree>
  actionLine = 0
  rangeDepth = 0
  stackDepth = 0
  opts!: ParseOptions

  constructor(name: string, parseName: string) {
    this.name = name
    this.parseName = parseName
  }

  startParse(opts: ParseOptions, lex: Lexer, treeSet: Map<string, Tree>): void {
    this.root = null
    this.lex = lex
    this.vars = ['$']
    this.opts = opts
    this.treeSet = treeSet
    this.stackDepth = 0
  }

  next(): Item {
    if (this.peekCount > 0) this.peekCount--
    else this.token[0] = this.lex.nextItem()
    return this.token[this.peekCount]!
  }

  backup(): void {
    this.peekCount++
  }

  backup2(t1: Item): void {
    this.token[1] = t1
    this.peekCount = 2
  }

  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1
    this.token[2] = t2
    this.peekCount = 3
  }

  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!
    this.peekCount = 1
    this.token[0] = this.lex.nextItem()
    return this.token[0]
  }

  nextNonSpace(): Item {
    let token: Item
    do token = this.next()
    while (token.typ === ItemType.Space)
    return token
  }

  peekNonSpace(): Item {
    const token = this.nextNonSpace()
    this.backup()
    return token
  }

  errorf(msg: string): never {
    this.root = null
    const line = this.token[0]?.line ?? 1
    throw new Abort(new TemplateError('parse', this.parseName, `template: ${this.parseName}:${line}: ${msg}`))
  }

  expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace()
    if (token.typ !== expected) this.unexpected(token, context)
    return token
  }

  expectOneOf(e1: ItemType, e2: ItemType, context: string): Item {
    const token = this.nextNonSpace()
    if (token.typ !== e1 && token.typ !== e2) this.unexpected(token, context)
    return token
  }

  unexpected(token: Item, context: string): never {
    if (token.typ === ItemType.Error) {
      let extra = ''
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length) // avoid "action in action"
      }
      this.errorf(itemString(token) + extra)
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`)
  }

  add(): void {
    const tree = this.treeSet.get(this.name)
    if (!tree || isEmptyTree(tree.root)) {
      this.treeSet.set(this.name, this)
      return
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template ${quote(this.name)}`)
  }

  newList(pos: number): ListNode {
    return { type: 'list', pos, nodes: [] }
  }

  parse(): void {
    this.root = this.newList(this.peek().pos)
    while (this.peek().typ !== ItemType.EOF) {
      if (this.peek().typ === ItemType.LeftDelim) {
        const delim = this.next()
        if (this.nextNonSpace().typ === ItemType.Define) {
          const newT = new Tree('definition', this.parseName) // name will be updated once we know it.
          newT.startParse(this.opts, this.lex, this.treeSet)
          newT.parseDefinition()
          continue
        }
        this.backup2(delim)
      }
      const n = this.textOrAction()
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`)
      else this.root.nodes.push(n)
    }
  }

  parseDefinition(): void {
    const context = 'define clause'
    const name = this.expectOneOf(ItemType.String, ItemType.RawString, context)
    try {
      this.name = unquote(name.val)
    } catch (err) {
      this.errorf((err as Error).message)
    }
    this.expect(ItemType.RightDelim, context)
    const [list, end] = this.itemList()
    this.root = list
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`)
    this.add()
  }

  itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos)
    while (this.peekNonSpace().typ !== ItemType.EOF) {
      const n = this.textOrAction()
      if (n.type === 'end' || n.type === 'else') return [list, n]
      list.nodes.push(n)
    }
    this.errorf('unexpected EOF')
  }

  textOrAction(): Node {
    const token = this.nextNonSpace()
    switch (token.typ) {
      case ItemType.Text:
        return { type: 'text', pos: token.pos, text: token.val }
      case ItemType.LeftDelim:
        this.actionLine = token.line
        try {
          return this.action()
        } finally {
          this.actionLine = 0
        }
      case ItemType.Comment:
        return { type: 'comment', pos: token.pos, text: token.val }
      default:
        this.unexpected(token, 'input')
    }
  }

  action(): Node {
    const token = this.nextNonSpace()
    switch (token.typ) {
      case ItemType.Block:
        return this.blockControl()
      case ItemType.Break:
        return this.breakControl(token.pos, token.line)
      case ItemType.Continue:
        return this.continueControl(token.pos, token.line)
      case ItemType.Else:
        return this.elseControl()
      case ItemType.End:
        return this.endControl()
      case ItemType.If:
        return this.branchControl('if')
      case ItemType.Range:
        return this.branchControl('range')
      case ItemType.Template:
        return this.templateControl()
      case ItemType.With:
        return this.branchControl('with')
    }
    this.backup()
    const t = this.peek()
    // Do not pop variables; they persist until "end".
    return { type: 'action', pos: t.pos, line: t.line, pipe: this.pipeline('command', ItemType.RightDelim) }
  }

  breakControl(pos: number, line: number): Node {
    const token = this.nextNonSpace()
    if (token.typ !== ItemType.RightDelim) this.unexpected(token, '{{break}}')
    if (this.rangeDepth === 0) this.errorf('{{break}} outside {{range}}')
    return { type: 'break', pos, line }
  }

  continueControl(pos: number, line: number): Node {
    const token = this.nextNonSpace()
    if (token.typ !== ItemType.RightDelim) this.unexpected(token, '{{continue}}')
    if (this.rangeDepth === 0) this.errorf('{{continue}} outside {{range}}')
    return { type: 'continue', pos, line }
  }

  pipeline(context: string, end: ItemType): PipeNode {
    const token = this.peekNonSpace()
    const pipe: PipeNode = { type: 'pipe', pos: token.pos, line: token.line, isAssign: false, decl: [], cmds: [] }
    // Are there declarations or assignments?
    decls: for (;;) {
      const v = this.peekNonSpace()
      if (v.typ === ItemType.Variable) {
        this.next()
        // Since space is a token, we need 3-token look-ahead here in the worst case: in
        // "$x foo" we need to read "foo" (as opposed to ":=") to know that $x is an argument
        // variable rather than a declaration.
        const tokenAfterVariable = this.peek()
        const next = this.peekNonSpace()
        if (next.typ === ItemType.Assign || next.typ === ItemType.Declare) {
          pipe.isAssign = next.typ === ItemType.Assign
          this.nextNonSpace()
          pipe.decl.push(this.newVariable(v.pos, v.val))
          this.vars.push(v.val)
        } else if (next.typ === ItemType.Char && next.val === ',') {
          this.nextNonSpace()
          pipe.decl.push(this.newVariable(v.pos, v.val))
          this.vars.push(v.val)
          if (context === 'range' && pipe.decl.length < 2) {
            const p = this.peekNonSpace().typ
            if (p === ItemType.Variable || p === ItemType.RightDelim || p === ItemType.RightParen) {
              continue decls // second initialized variable in a range pipeline
            }
            this.errorf('range can only initialize variables')
          }
          this.errorf(`too many declarations in ${context}`)
        } else if (tokenAfterVariable.typ === ItemType.Space) {
          this.backup3(v, tokenAfterVariable)
        } else {
          this.backup2(v)
        }
      }
      break
    }
    for (;;) {
      const token = this.nextNonSpace()
      switch (token.typ) {
        case end:
          this.checkPipeline(pipe, context)
          return pipe
        case ItemType.Bool:
        case ItemType.CharConstant:
        case ItemType.Complex:
        case ItemType.Dot:
        case ItemType.Field:
        case ItemType.Identifier:
        case ItemType.Number:
        case ItemType.Nil:
        case ItemType.RawString:
        case ItemType.String:
        case ItemType.Variable:
        case ItemType.LeftParen:
          this.backup()
          pipe.cmds.push(this.command())
          if (pipe.cmds.length > MAX_PIPELINE_CMDS) this.errorf('pipeline too long')
          break
        default:
          this.unexpected(token, context)
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`)
    // Only the first command of a pipeline can start with a non executable operand.
    for (let i = 1; i < pipe.cmds.length; i++) {
      const t = pipe.cmds[i]!.args[0]!.type
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 1}`)
      }
    }
  }

  parseControl(context: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length
    try {
      const pipe = this.pipeline(context, ItemType.RightDelim)
      if (context === 'range') this.rangeDepth++
      let [list, next] = this.itemList()
      if (context === 'range') this.rangeDepth--
      let elseList: ListNode | null = null
      if (next.type === 'else') {
        // {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}}; likewise
        // for "else with". Parse the inner if/with and stop at its {{end}}; the outer {{end}}
        // is assumed.
        if (context === 'if' && this.peek().typ === ItemType.If) {
          this.next()
          elseList = this.newList(next.pos)
          elseList.nodes.push(this.branchControl('if'))
        } else if (context === 'with' && this.peek().typ === ItemType.With) {
          this.next()
          elseList = this.newList(next.pos)
          elseList.nodes.push(this.branchControl('with'))
        } else {
          ;[elseList, next] = this.itemList()
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`)
        }
      }
      return { type: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList }
    } finally {
      this.vars.length = mark
    }
  }

  branchControl(context: 'if' | 'range' | 'with'): BranchNode {
    return this.parseControl(context)
  }

  endControl(): Node {
    return { type: 'end', pos: this.expect(ItemType.RightDelim, 'end').pos }
  }

  elseControl(): Node {
    const peek = this.peekNonSpace()
    // "{{else if ..." and "{{else with ..." are treated as "{{else}}{{if ..." and "{{else}}{{with ...".
    if (peek.typ === ItemType.If || peek.typ === ItemType.With) return { type: 'else', pos: peek.pos, line: peek.line }
    const token = this.expect(ItemType.RightDelim, 'else')
    return { type: 'else', pos: token.pos, line: token.line }
  }

  blockControl(): Node {
    const context = 'block clause'
    const token = this.nextNonSpace()
    const name = this.parseTemplateName(token, context)
    const pipe = this.pipeline(context, ItemType.RightDelim)
    const block = new Tree(name, this.parseName)
    block.startParse(this.opts, this.lex, this.treeSet)
    const [list, end] = block.itemList()
    block.root = list
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`)
    block.add()
    const node: TemplateNode = { type: 'template', pos: token.pos, line: token.line, name, pipe }
    return node
  }

  templateControl(): Node {
    const context = 'template clause'
    const token = this.nextNonSpace()
    const name = this.parseTemplateName(token, context)
    let pipe: PipeNode | null = null
    if (this.nextNonSpace().typ !== ItemType.RightDelim) {
      this.backup()
      // Do not pop variables; they persist until "end".
      pipe = this.pipeline(context, ItemType.RightDelim)
    }
    return { type: 'template', pos: token.pos, line: token.line, name, pipe }
  }

  parseTemplateName(token: Item, context: string): string {
    if (token.typ === ItemType.String || token.typ === ItemType.RawString) {
      try {
        return unquote(token.val)
      } catch (err) {
        this.errorf((err as Error).message)
      }
    }
    this.unexpected(token, context)
  }

  command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] }
    for (;;) {
      this.peekNonSpace() // skip leading spaces.
      const operand = this.operand()
      if (operand) cmd.args.push(operand)
      const token = this.next()
      if (token.typ === ItemType.Space) continue
      if (token.typ === ItemType.RightDelim || token.typ === ItemType.RightParen) this.backup()
      else if (token.typ !== ItemType.Pipe) this.unexpected(token, 'operand')
      break
    }
    if (cmd.args.length === 0) this.errorf('empty command')
    return cmd
  }

  operand(): Node | null {
    let node = this.term()
    if (!node) return null
    if (this.peek().typ === ItemType.Field) {
      const chainPos = this.peek().pos
      const fields: string[] = []
      while (this.peek().typ === ItemType.Field) fields.push(this.next().val.slice(1))
      // Compatibility with the original API: fields chained on a field or variable extend it.
      switch (node.type) {
        case 'field':
          node = { type: 'field', pos: chainPos, ident: [...node.ident, ...fields] }
          break
        case 'variable':
          node = { type: 'variable', pos: chainPos, ident: [...node.ident, ...fields] }
          break
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${quote(nodeString(node))}`)
          break
        default:
          node = { type: 'chain', pos: chainPos, node, field: fields }
      }
    }
    return node
  }

  term(): Node | null {
    const token = this.nextNonSpace()
    switch (token.typ) {
      case ItemType.Identifier:
        if (!this.opts.skipFuncCheck && !this.opts.hasFunction(token.val)) {
          this.errorf(`function ${quote(token.val)} not defined`)
        }
        return { type: 'identifier', pos: token.pos, ident: token.val }
      case ItemType.Dot:
        return { type: 'dot', pos: token.pos }
      case ItemType.Nil:
        return { type: 'nil', pos: token.pos }
      case ItemType.Variable:
        return this.useVar(token.pos, token.val)
      case ItemType.Field:
        return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') }
      case ItemType.Bool:
        return { type: 'bool', pos: token.pos, value: token.val === 'true' }
      case ItemType.CharConstant:
      case ItemType.Complex:
      case ItemType.Number:
        try {
          const kind = token.typ === ItemType.CharConstant ? 'char' : token.typ === ItemType.Complex ? 'complex' : 'number'
          return newNumber(token.pos, token.val, kind)
        } catch (err) {
          this.errorf((err as Error).message)
        }
        break
      case ItemType.LeftParen: {
        if (this.stackDepth >= MAX_STACK_DEPTH) this.errorf('max expression depth exceeded')
        this.stackDepth++
        try {
          return this.pipeline('parenthesized pipeline', ItemType.RightParen)
        } finally {
          this.stackDepth--
        }
      }
      case ItemType.String:
      case ItemType.RawString:
        try {
          return { type: 'string', pos: token.pos, quoted: token.val, text: unquote(token.val) }
        } catch (err) {
          this.errorf((err as Error).message)
        }
    }
    this.backup()
    return null
  }

  newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', pos, ident: ident.split('.') }
  }

  useVar(pos: number, name: string): Node {
    const v = this.newVariable(pos, name)
    if (this.vars.includes(v.ident[0]!)) return v
    this.errorf(sprintf('undefined variable %q', v.ident[0]))
  }
}

/**
 * Parses a template text into its trees: the top-level one under `opts.name` plus every
 * {{define}}d and {{block}}ed one. Throws TemplateError (kind "parse").
 */
export function parse(text: string, opts: ParseOptions): TreeSet {
  const name = opts.name ?? ''
  const treeSet = new Map<string, Tree>()
  const t = new Tree(name, name)
  try {
    const lex = new Lexer(name, text, opts.leftDelim ?? '', opts.rightDelim ?? '', {
      emitComment: opts.parseComments ?? false,
      breakOK: !opts.hasFunction('break'),
      continueOK: !opts.hasFunction('continue'),
    })
    t.startParse(opts, lex, treeSet)
    t.parse()
    t.add()
  } catch (err) {
    if (err instanceof Abort) throw err.err
    throw err
  }
  const out: TreeSet = new Map()
  for (const [k, tree] of treeSet) if (tree.root) out.set(k, tree.root)
  return out
}
