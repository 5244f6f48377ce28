/**
 * The short id of a Pub/Sub resource from its full name: `orders` from
 * `projects/p/topics/orders` or `projects/p/subscriptions/orders`, and a bare id as it is.
 * Span names and `messaging.destination.*` attributes use the id: the project is in the
 * resource attributes, and the id is what people search for.
 */
export function resourceId(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash === -1 ? name : name.slice(slash + 1);
}
