/**
 * The executor of Go's text/template (exec.go): walks a parsed tree against data, keeping Go's
 * variable scoping, truth, field/method resolution, typed function calls and its error messages
 * ("template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type T").
 */
import { Buffer } from 'node:buffer'
import { TemplateError } from './errors.js'
import { formatValue, quote } from '../../lib/gofmt/fmt.js'
import { type ArgType, type GoFunc, argTypeName } from './funcs.js'
import {
  type BranchNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type NumberNode,
  type PipeNode,
  type TemplateNode,
  type VariableNode,
  nodeString,
} from './nodes.js'
import { isMapLike, isTrue, kindOf, mapLookup, sortedEntries, structLookup, typeName } from '../../lib/gofmt/values.js'

/** What a missing map key yields (Go's Option("missingkey=...")). */
export type MissingKey = 'default' | 'invalid' | 'zero' | 'error'

/** A function as the executor resolves it by name. */
export interface ResolvedFunc {
  spec: GoFunc
  builtin: boolean
}

/** Everything an execution needs besides the data. */
export interface ExecEnv {
  /** The text that was parsed (for line:column in errors). */
  text: string
  /** The name given at parse time (the first part of error locations). */
  parseName: string
  trees: ReadonlyMap<string, ListNode>
  funcs: ReadonlyMap<string, ResolvedFunc>
  missingKey: MissingKey
}

const MISSING: unique symbol = Symbol('missing')
type Final = unknown

const NONE = 0
const BREAK = 1
const CONTINUE = 2
type Signal = typeof NONE | typeof BREAK | typeof CONTINUE

/** Nesting limit for {{template}} calls (Go allows 100000; a JavaScript stack does not). */
export const MAX_EXEC_DEPTH = 1000

interface Variable {
  name: string
  value: unknown
}

type ParamType = ArgType | 'untyped'

function byteLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8')
  return s.length
}

function intValue(n: NumberNode): number | bigint {
  return n.int >= BigInt(Number.MIN_SAFE_INTEGER) && n.int <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n.int) : n.int
}

function isGoInt(v: unknown): boolean {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 63)
}

function canBeNil(t: ParamType): boolean {
  return t === 'any' || t === 'value' || t === 'untyped' || t === 'strings'
}

class State {
  readonly env: ExecEnv
  name: string
  node: Node | null = null
  vars: Variable[]
  depth = 0
  out = ''
  /** Set while evaluating the function argument of `call`: a function field is not invoked. */
  rawFunc = false

  constructor(env: ExecEnv, name: string, data: unknown) {
    this.env = env
    this.name = name
    this.vars = [{ name: '$', value: data }]
  }

  at(node: Node): void {
    this.node = node
  }

  errorContext(node: Node): [string, string] {
    const text = this.env.text.slice(0, node.pos)
    const nl = text.lastIndexOf('\n')
    const byteNum = nl === -1 ? byteLength(text) : byteLength(text.slice(nl + 1))
    let lineNum = 1
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineNum++
    return [`${this.env.parseName}:${lineNum}:${byteNum}`, nodeString(node)]
  }

  errorf(msg: string, cause?: unknown): never {
    let message: string
    if (!this.node) {
      message = `template: ${this.name}: ${msg}`
    } else {
      const [location, context] = this.errorContext(this.node)
      message = `template: ${location}: executing ${quote(this.name)} at <${context}>: ${msg}`
    }
    throw new TemplateError('exec', this.name, message, cause === undefined ? undefined : { cause })
  }

  // -- variables

  setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i]!
      if (v.name === name) {
        v.value = value
        return
      }
    }
    this.errorf(`undefined variable: ${name}`)
  }

  setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value
  }

  varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i]!
      if (v.name === name) return v.value
    }
    this.errorf(`undefined variable: ${name}`)
  }

  // -- walking

  walk(dot: unknown, node: Node): Signal {
    this.node = node
    switch (node.type) {
      case 'action': {
        // Do not pop variables so they persist until next end. If the action declares
        // variables, don't print the result.
        const val = this.evalPipeline(dot, node.pipe)
        if (node.pipe.decl.length === 0) this.printValue(node, val)
        return NONE
      }
      case 'break':
        return BREAK
      case 'continue':
        return CONTINUE
      case 'comment':
        return NONE
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node)
      case 'list':
        for (const n of node.nodes) {
          const sig = this.walk(dot, n)
          if (sig !== NONE) return sig
        }
        return NONE
      case 'range':
        return this.walkRange(dot, node)
      case 'template':
        this.walkTemplate(dot, node)
        return NONE
      case 'text':
        this.out += node.text
        return NONE
    }
    this.errorf(`unknown node: ${nodeString(node)}`)
  }

  walkIfOrWith(dot: unknown, node: BranchNode): Signal {
    const mark = this.vars.length
    try {
      const val = this.evalPipeline(dot, node.pipe)
      if (isTrue(val)) return this.walk(node.type === 'with' ? val : dot, node.list)
      if (node.elseList) return this.walk(dot, node.elseList)
      return NONE
    } finally {
      this.vars.length = mark
    }
  }

  walkRange(dot: unknown, r: BranchNode): Signal {
    this.at(r)
    const mark0 = this.vars.length
    try {
      const val = this.evalPipeline(dot, r.pipe)
      // mark top of stack before any variables in the body are pushed.
      const mark = this.vars.length
      const decl = r.pipe.decl
      const oneIteration = (index: unknown, elem: unknown): Signal => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) {
            // With two variables, index comes first. With one, we use the element.
            this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem)
          } else {
            // Set top var (lexically the second if there are two) to the element.
            this.setTopVar(1, elem)
          }
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem)
          else this.setTopVar(2, index) // Set next var (lexically the first if there are two) to the index.
        }
        try {
          return this.walk(elem, r.list)
        } finally {
          this.vars.length = mark
        }
      }
      let ran = false
      switch (kindOf(val)) {
        case 'slice':
        case 'bytes': {
          const a = val as ArrayLike<unknown>
          for (let i = 0; i < a.length; i++) {
            ran = true
            if (oneIteration(i, a[i]) === BREAK) break
          }
          break
        }
        case 'map':
          for (const [k, v] of sortedEntries(val as object)) {
            ran = true
            if (oneIteration(k, v) === BREAK) break
          }
          break
        case 'int': {
          if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`)
          const n = Number(val)
          for (let i = 0; i < n; i++) {
            ran = true
            if (oneIteration(i, i) === BREAK) break
          }
          break
        }
        case 'invalid':
        case 'nil':
          break // An invalid value is likely a nil map, etc. and acts like an empty map.
        default:
          this.errorf(`range can't iterate over ${formatValue(val)}`)
      }
      if (ran) return NONE
      if (r.elseList) return this.walk(dot, r.elseList)
      return NONE
    } finally {
      this.vars.length = mark0
    }
  }

  walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t)
    const tree = this.env.trees.get(t.name)
    if (!tree) this.errorf(`template ${quote(t.name)} not defined`)
    if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`)
    // Variables declared by the pipeline persist.
    const newDot = this.evalPipeline(dot, t.pipe)
    const saved = { name: this.name, vars: this.vars, depth: this.depth }
    this.name = t.name
    // No dynamic scoping: template invocations inherit no variables.
    this.vars = [{ name: '$', value: newDot }]
    this.depth++
    try {
      this.walk(newDot, tree)
    } finally {
      this.name = saved.name
      this.vars = saved.vars
      this.depth = saved.depth
    }
  }

  // -- evaluation

  evalPipeline(dot: unknown, pipe: PipeNode | null): unknown {
    if (!pipe) return undefined
    this.at(pipe)
    let value: Final = MISSING
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value)
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value)
      else this.vars.push({ name: v.ident[0]!, value })
    }
    return value
  }

  notAFunction(args: readonly Node[] | null, final: Final): void {
    if ((args !== null && args.length > 1) || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args![0]!)}`)
    }
  }

  evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final)
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final)
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final)
      case 'pipe':
        // Parenthesized pipeline. The arguments are all inside the pipeline; final must be absent.
        this.notAFunction(cmd.args, final)
        return this.evalPipeline(dot, first)
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final)
    }
    this.at(first)
    this.notAFunction(cmd.args, final)
    switch (first.type) {
      case 'bool':
        return first.value
      case 'dot':
        return dot
      case 'nil':
        this.errorf('nil is not a command')
        break
      case 'number':
        return this.idealConstant(first)
      case 'string':
        return first.text
    }
    this.errorf(`can't evaluate command ${quote(nodeString(first))}`)
  }

  idealConstant(constant: NumberNode): unknown {
    this.at(constant)
    const text = constant.text
    if (constant.isComplex) return constant.complex
    const isHexInt = text.length > 2 && text[0] === '0' && (text[1] === 'x' || text[1] === 'X') && !/[pP]/.test(text)
    const isRuneInt = text[0] === "'"
    if (constant.isFloat && !isHexInt && !isRuneInt && /[.eEpP]/.test(text)) return constant.float
    if (constant.isInt) return intValue(constant)
    if (constant.isUint) this.errorf(`${text} overflows int`)
    return undefined
  }

  evalFieldNode(dot: unknown, field: FieldNode, args: readonly Node[] | null, final: Final): unknown {
    this.at(field)
    return this.evalFieldChain(dot, dot, field, field.ident, args, final)
  }

  evalChainNode(dot: unknown, chain: ChainNode, args: readonly Node[] | null, final: Final): unknown {
    this.at(chain)
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode')
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`)
    // (pipe).Field1.Field2 has pipe as .Node, fields as .Field. Eval the pipeline, then the fields.
    const raw = this.rawFunc
    this.rawFunc = false
    const pipe = this.evalArg(dot, 'untyped', chain.node)
    this.rawFunc = raw
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final)
  }

  evalVariableNode(dot: unknown, variable: VariableNode, args: readonly Node[] | null, final: Final): unknown {
    // $x.Field has $x as the first ident, Field as the second. Eval the var, then the fields.
    this.at(variable)
    const value = this.varValue(variable.ident[0]!)
    if (variable.ident.length === 1) {
      this.notAFunction(args, final)
      return value
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final)
  }

  evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: Node,
    ident: readonly string[],
    args: readonly Node[] | null,
    final: Final,
  ): unknown {
    const raw = this.rawFunc
    this.rawFunc = false
    const n = ident.length
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver)
    // Now if it's a method, it gets the arguments.
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver, raw)
  }

  evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: readonly Node[] | null, final: Final): unknown {
    this.at(node)
    const name = node.ident
    const f = this.env.funcs.get(name)
    if (!f) this.errorf(`${quote(name)} is not a defined function`)
    return this.evalCall(dot, f.spec, f.builtin, undefined, cmd, name, args, final)
  }

  evalMethod(dot: unknown, fn: (...a: unknown[]) => unknown, receiver: object, node: Node, name: string, args: readonly Node[] | null, final: Final): unknown {
    const argc = (args ? args.length - 1 : 0) + (final !== MISSING ? 1 : 0)
    if (fn.length > argc) this.errorf(`wrong number of args for ${name}: want ${fn.length} got ${argc}`)
    return this.evalCall(dot, { params: [], variadic: 'any', fn }, false, receiver, node, name, args, final)
  }

  evalField(
    dot: unknown,
    fieldName: string,
    node: Node,
    args: readonly Node[] | null,
    final: Final,
    receiver: unknown,
    raw = false,
  ): unknown {
    if (receiver === undefined) {
      if (this.env.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(fieldName)}`)
      return undefined
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`)
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING
    if (typeof receiver === 'object') {
      if (isMapLike(receiver)) {
        const { found, value } = mapLookup(receiver, fieldName)
        if (found && typeof value === 'function' && !raw) {
          return this.evalMethod(dot, value as (...a: unknown[]) => unknown, receiver, node, fieldName, args, final)
        }
        if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`)
        if (!found && this.env.missingKey === 'error') this.errorf(`map has no entry for key ${quote(fieldName)}`)
        return value
      }
      if (kindOf(receiver) === 'struct') {
        const { found, value } = structLookup(receiver, fieldName)
        if (found) {
          if (typeof value === 'function' && !raw) {
            return this.evalMethod(dot, value as (...a: unknown[]) => unknown, receiver, node, fieldName, args, final)
          }
          if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`)
          return value
        }
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`)
  }

  evalCall(
    dot: unknown,
    spec: GoFunc,
    isBuiltin: boolean,
    thisArg: unknown,
    node: Node,
    name: string,
    args: readonly Node[] | null,
    final: Final,
  ): unknown {
    const argNodes = args ? args.slice(1) : [] // Zeroth arg is the function name/node.
    let numIn = argNodes.length
    if (final !== MISSING) numIn++
    const params = spec.params
    const variadic = spec.variadic
    let numFixed = argNodes.length
    if (variadic !== undefined) {
      numFixed = params.length
      if (numIn < numFixed) {
        this.errorf(`wrong number of args for ${name}: want at least ${params.length} got ${argNodes.length}`)
      }
    } else if (numIn !== params.length) {
      this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`)
    }

    // Special case for builtin and/or, which short-circuit.
    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: unknown
      for (const arg of argNodes) {
        v = this.evalArg(dot, 'value', arg)
        if (isTrue(v) === (name === 'or')) return v
      }
      if (final !== MISSING) v = final
      return v
    }

    // Build the arg list. Fixed args first.
    const argv: unknown[] = []
    let i = 0
    if (isBuiltin && name === 'call' && argNodes.length > 0) {
      // The function given to call is the function value itself, not the result of calling it.
      const n = argNodes[0]!.type
      this.rawFunc = n === 'field' || n === 'chain' || n === 'variable'
      try {
        argv.push(this.evalArg(dot, params[0]!, argNodes[0]!))
      } finally {
        this.rawFunc = false
      }
      i = 1
    }
    for (; i < numFixed && i < argNodes.length; i++) argv.push(this.evalArg(dot, params[i]!, argNodes[i]!))
    // Now the ... args.
    if (variadic !== undefined) for (; i < argNodes.length; i++) argv.push(this.evalArg(dot, variadic, argNodes[i]!))
    // Add final value if necessary.
    if (final !== MISSING) {
      let t: ArgType = params[params.length - 1] ?? variadic ?? 'any'
      if (variadic !== undefined) t = numIn - 1 < numFixed ? params[numIn - 1]! : variadic
      argv.push(this.validateType(final, t))
    }
    if (isBuiltin && name === 'call') {
      const calleeName = argNodes.length === 0 ? formatValue(final) : nodeString(argNodes[0]!)
      argv.unshift(calleeName)
    }
    try {
      return spec.fn.apply(thisArg, argv)
    } catch (err) {
      this.at(node)
      const msg = err instanceof Error ? err.message : String(err)
      this.errorf(`error calling ${name}: ${msg}`, err)
    }
  }

  validateType(value: unknown, typ: ParamType): unknown {
    switch (typ) {
      case 'any':
      case 'value':
      case 'untyped':
        return value
      case 'string':
        if (typeof value === 'string') return value
        break
      case 'int':
        if (isGoInt(value)) return value
        break
      case 'float':
        if (typeof value === 'number') return value
        if (typeof value === 'bigint') return Number(value)
        break
      case 'bool':
        if (typeof value === 'boolean') return value
        break
      case 'strings':
        if (Array.isArray(value) && value.every((e) => typeof e === 'string')) return value
        break
    }
    if (value === undefined || value === null) {
      if (canBeNil(typ)) return typ === 'strings' ? [] : undefined
      this.errorf(`invalid value; expected ${argTypeName(typ)}`)
    }
    const got = Array.isArray(value) && value.length === 0 ? '[]interface {}' : typeName(value)
    this.errorf(`wrong type for value; expected ${argTypeName(typ)}; got ${got}`)
  }

  evalArg(dot: unknown, typ: ParamType, n: Node): unknown {
    this.at(n)
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ)
      case 'nil':
        if (canBeNil(typ)) return typ === 'strings' ? [] : undefined
        this.errorf(`cannot assign nil to ${argTypeName(typ as ArgType)}`)
        break
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ)
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ)
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ)
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ)
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ)
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value
        this.errorf(`expected bool; found ${nodeString(n)}`)
        break
      case 'float':
        if (n.type === 'number' && n.isFloat) return n.float
        this.errorf(`expected float; found ${nodeString(n)}`)
        break
      case 'int':
        if (n.type === 'number' && n.isInt) return intValue(n)
        this.errorf(`expected integer; found ${nodeString(n)}`)
        break
      case 'any':
      case 'value':
      case 'untyped':
        return this.evalEmptyInterface(dot, n)
      case 'string':
        if (n.type === 'string') return n.text
        this.errorf(`expected string; found ${nodeString(n)}`)
        break
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${argTypeName(typ as ArgType)}`)
  }

  evalEmptyInterface(dot: unknown, n: Node): unknown {
    this.at(n)
    switch (n.type) {
      case 'bool':
        return n.value
      case 'dot':
        return dot
      case 'field':
        return this.evalFieldNode(dot, n, null, MISSING)
      case 'identifier':
        return this.evalFunction(dot, n, n, null, MISSING)
      case 'nil':
        this.errorf("evalEmptyInterface: nil (can't happen)")
        break
      case 'number':
        return this.idealConstant(n)
      case 'string':
        return n.text
      case 'variable':
        return this.evalVariableNode(dot, n, null, MISSING)
      case 'pipe':
        return this.evalPipeline(dot, n)
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`)
  }

  printValue(node: Node, v: unknown): void {
    this.at(node)
    if (v === undefined) {
      this.out += '<no value>'
      return
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type func()`)
    this.out += typeof v === 'string' ? v : formatValue(v)
  }
}

/** Executes the template `name` of env against data; returns the output. Throws TemplateError. */
export function execute(env: ExecEnv, name: string, data: unknown): string {
  if (data === null) data = undefined // Execute(w, nil): the data is the invalid value.
  const s = new State(env, name, data)
  const tree = env.trees.get(name)
  if (!tree) return s.errorf(`${quote(name)} is an incomplete or empty template`)
  try {
    s.walk(data, tree)
  } catch (err) {
    let e = err
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      try {
        s.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`, err)
      } catch (wrapped) {
        e = wrapped
      }
    }
    if (e instanceof TemplateError) e.partialOutput = s.out
    throw e
  }
  return s.out
}
