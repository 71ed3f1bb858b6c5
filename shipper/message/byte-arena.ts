/**
 * One block of memory shared by the spool reader's read buffer and the buffers messages are
 * staged in. Copying a record's bytes from the read buffer into a staging buffer is then a
 * `copyWithin` on one typed array: no allocation. `Buffer.copy` between two buffers allocates a
 * view per call, and with ~9 quoted spans per record that was ~9 garbage objects per record.
 */

/** The spool reader's read buffer (the largest read it makes). */
const READ_BYTES = 256 * 1024;
/** Staging buffers: the one being filled plus those a compressor still reads from. */
const SLOT_COUNT = 6;
const SLOT_BYTES = 272 * 1024;

const arena = new ArrayBuffer(READ_BYTES + SLOT_COUNT * SLOT_BYTES);
/** The whole arena, for copyWithin between its regions. */
const arenaBytes = new Uint8Array(arena);
/** The same, four bytes at a time (the arena starts aligned), for scanning. */
const arenaWords = new Int32Array(arena);
const readBuffer = Buffer.from(arena, 0, READ_BYTES);
const freeSlots: Buffer[] = Array.from({ length: SLOT_COUNT }, (_, i) =>
  Buffer.from(arena, READ_BYTES + i * SLOT_BYTES, SLOT_BYTES),
);

/** A free staging slot of at least `bytes`, or undefined (the caller allocates its own). */
function takeSlot(bytes: number): Buffer | undefined {
  return bytes <= SLOT_BYTES ? freeSlots.pop() : undefined;
}

/** Gives back a buffer if it is an arena slot; anything else is left to the garbage collector. */
function returnSlot(buf: Buffer): boolean {
  if (buf.buffer !== arena || buf.byteOffset < READ_BYTES || buf.length !== SLOT_BYTES) return false;
  freeSlots.push(buf);
  return true;
}

/** Copies `src[start, end)` to `dst` at `at` when both live in the arena; false if they do not. */
function copyInArena(src: Buffer, start: number, end: number, dst: Buffer, at: number): boolean {
  if (src.buffer !== arena || dst.buffer !== arena) return false;
  arenaBytes.copyWithin(dst.byteOffset + at, src.byteOffset + start, src.byteOffset + end);
  return true;
}

const BACKSLASH = 0x5c;

/**
 * Whether `src[start, end)` holds a byte JSON must escape other than a quote (a control byte or a
 * backslash), or undefined when `src` is not in the arena. Checks four bytes per step: a record is
 * ~500 bytes and this runs for every one, where a byte loop cost ~1.4 µs per record.
 */
function hasEscapesInArena(src: Buffer, start: number, end: number): boolean | undefined {
  if (src.buffer !== arena) return undefined;
  let i = src.byteOffset + start;
  const stop = src.byteOffset + end;
  const aligned = Math.min(stop, (i + 3) & ~3);
  for (; i < aligned; i++) if (isEscaped(arenaBytes[i] as number)) return true;
  const words = stop >> 2;
  for (let w = i >> 2; w < words; w++) {
    const x = arenaWords[w] as number;
    // Bit tricks (exact as a yes/no): a byte below 0x20, or a byte equal to the backslash.
    const y = x ^ 0x5c5c5c5c;
    if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) return true;
  }
  for (i = Math.max(i, words << 2); i < stop; i++) if (isEscaped(arenaBytes[i] as number)) return true;
  return false;
}

function isEscaped(c: number): boolean {
  return c < 0x20 || c === BACKSLASH;
}

export { copyInArena, hasEscapesInArena, READ_BYTES, readBuffer, returnSlot, SLOT_BYTES, takeSlot };
