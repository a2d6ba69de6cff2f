/**
 * Where `send_email { template: NAME }` finds its template. The store keeps templates per store,
 * overridable by files in `templates/`; this action only needs a way to load one by name. The
 * engine provides it as `ctx.services.templates`, or a caller passes one to createSendEmailAction.
 */
export interface StoredEmailTemplate {
  name: string
  /** Liquid */
  subject: string
  /** Liquid; a fragment wrapped in the layout, or a full HTML document */
  html: string
  /** Liquid; the hidden preview line */
  preheader?: string | null
}

export interface EmailTemplateLoader {
  /** the template, or null when the store has no template by that name */
  load(storeId: string, name: string): Promise<StoredEmailTemplate | null>
}

/** The service send_email looks for beside the standard ActionServices. */
export interface MessagingTemplateServices {
  templates?: EmailTemplateLoader
}
