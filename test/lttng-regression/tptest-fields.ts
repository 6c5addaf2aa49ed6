// The fields gen-ust-events' tp:tptest and gen-ust-nevents' tp:tptest1..5 share (their tp.h files), in order and
// with their types (C's long is 64-bit here; sequence lengths are ltt/ust's 32-bit ones, not size_t), and the
// values the C apps pass at iteration i.

import * as ust from 'ltt/ust';

export const TPTEST_FIELDS = [
  ust.int32('intfield'),
  ust.int32('intfield2', { hex: true }),
  ust.int64('longfield'),
  ust.int32('netintfield', { byteOrder: 'be' }),
  ust.int32('netintfieldhex', { byteOrder: 'be', hex: true }),
  ust.array('arrfield1', ust.int64(), 3),
  ust.array('arrfield2', ust.int8('', { text: true }), 10),
  ust.sequence('seqfield1', ust.int8()),
  ust.sequence('seqfield2', ust.int8('', { text: true })),
  ust.string('stringfield'),
  ust.float32('floatfield'),
  ust.float64('doublefield'),
] as const;

const VALUES = [1, 2, 3];
const TEXT = [...Buffer.from('test\0\0\0\0\0\0')];
const TEXT_LEN = TEXT.slice(0, 4);

/** The values of TPTEST_FIELDS at iteration i (text "test", values {1, 2, 3}, 2222.0f, 2.0). */
export function tptestValues(i: number) {
  return [i, i, i, i, i, VALUES, TEXT, TEXT_LEN, TEXT_LEN, 'test', 2222, 2] as const;
}
