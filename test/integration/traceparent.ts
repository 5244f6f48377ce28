/** The W3C example traceparent the smoke tests send through each broker. */
export const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
