/**
 * A translated string with its `{name}` placeholders filled in one pass, so a value that itself
 * holds `{other}` stays as typed; a placeholder without a value stays as written. Shared by the
 * emails, the pay page and the chatter notes.
 */
export function fillPlaceholders(template: string, value: (name: string) => string | undefined): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => value(name) ?? whole);
}
