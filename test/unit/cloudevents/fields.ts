/** An event's own fields as a plain object, to compare events field by field. */
export function fieldsOf(event: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event));
}
