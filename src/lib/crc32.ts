/**
 * CRC-32 (gzip's) arithmetic, to checksum a page made of fixed parts and a few per-visitor values
 * without reading the parts again for each visitor: the checksum of A followed by B is a linear
 * function of A's checksum, fixed by B's length, plus B's own checksum. As zlib's crc32_combine
 * (RFC 1952's polynomial, bit-reflected: bit 31 is x⁰); Node offers crc32 but not the combination.
 */
const POLYNOMIAL = 0xedb88320;

/** a × b modulo the polynomial. */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  for (let bit = 0x80000000; a !== 0 && bit !== 0; bit >>>= 1) {
    if (a & bit) {
      product ^= b;
      a ^= bit;
    }
    b = b & 1 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0…31. */
const X_TO_2_TO_K: number[] = [0x40000000];
for (let k = 1; k < 32; k++) X_TO_2_TO_K.push(multiplyModP(X_TO_2_TO_K[k - 1]!, X_TO_2_TO_K[k - 1]!));

/** How a checksum moves past `length` bytes: use with {@link crc32Continue}. */
export function crc32Shift(length: number): number {
  let shift = 0x80000000; // x⁰
  // length bytes are 8 × length bits: x^(8·length), from the powers x^(2^k) for the bits of 8·length.
  for (let k = 3, n = length; n > 0; n = Math.floor(n / 2), k++) if (n % 2) shift = multiplyModP(X_TO_2_TO_K[k % 32]!, shift);
  return shift;
}

/** The CRC-32 of A followed by B, from A's CRC-32, B's and B's shift (crc32Shift of B's length). */
export function crc32Continue(crcOfA: number, crcOfB: number, shiftOfB: number): number {
  return (multiplyModP(shiftOfB, crcOfA) ^ crcOfB) >>> 0;
}
