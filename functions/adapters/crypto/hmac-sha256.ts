/** The HmacSha256 port of core/unsubscribe/unsubscribe-token.ts on node:crypto. */
import { createHmac } from 'node:crypto';
import type { HmacSha256 } from '#core/ports.ts';

const hmacSha256: HmacSha256 = (key, message) => createHmac('sha256', key).update(message, 'utf8').digest();

export { hmacSha256 };
