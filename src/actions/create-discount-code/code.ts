import { randomInt } from 'node:crypto'

/** Letters and digits that cannot be misread for one another: no 0/O, 1/I/L. */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
/** Random characters per code: 31^12 ≈ 7.9 × 10^17 codes, about 59 bits; not guessable by trying. */
export const CODE_LENGTH = 12

/** A new code: the prefix (upper-cased) followed by 12 characters drawn with a cryptographic RNG. */
export function newDiscountCode(prefix = ''): string {
  let code = prefix.toUpperCase()
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]
  return code
}
