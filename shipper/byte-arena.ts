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

export { copyInArena, READ_BYTES, readBuffer, returnSlot, SLOT_BYTES, takeSlot };
