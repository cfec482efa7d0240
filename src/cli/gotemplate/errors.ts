/**
 * The error every failure of the template engine throws: a parse error (`kind: 'parse'`,
 * "template: NAME:LINE: ...") or an execution error (`kind: 'exec'`, "template: NAME:LINE:COL:
 * executing "NAME" at <NODE>: ..."), worded as Go's text/template words them.
 */
export type TemplateErrorKind = 'parse' | 'exec'

export class TemplateError extends Error {
  readonly kind: TemplateErrorKind
  /** The name of the template being parsed or executed. */
  readonly templateName: string
  /** For execution errors: what the template had written before it failed (Go leaves it in the writer). */
  partialOutput?: string

  constructor(kind: TemplateErrorKind, templateName: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TemplateError'
    this.kind = kind
    this.templateName = templateName
  }
}
