/*
 * tp.h - LTTng-UST tracepoint provider "texts": every lttng_ust_field_* macro
 * that writes a field, so that `ltt view` can be compared with babeltrace2 on
 * a real LTTng-UST trace.  The text fields are the point: babeltrace2 2.0.4
 * prints an empty text field as the last non-empty text its reused event
 * object held, so the app emits empty and short values after long ones.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER texts

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./tp.h"

#if !defined(_TEXTS_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define _TEXTS_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_ENUM(texts, colour,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("RED", 0)
		lttng_ust_field_enum_range("GREEN..BLUE", 1, 3)
		lttng_ust_field_enum_auto("AUTO")
		lttng_ust_field_enum_value("BIG", 1000)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(texts, ints,
	LTTNG_UST_TP_ARGS(int, i, int64_t, v),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int8_t, s8, (int8_t) v)
		lttng_ust_field_integer(uint8_t, u8, (uint8_t) v)
		lttng_ust_field_integer(int16_t, s16, (int16_t) v)
		lttng_ust_field_integer(uint16_t, u16, (uint16_t) v)
		lttng_ust_field_integer(int32_t, s32, (int32_t) v)
		lttng_ust_field_integer(uint32_t, u32, (uint32_t) v)
		lttng_ust_field_integer(int64_t, s64, v)
		lttng_ust_field_integer(uint64_t, u64, (uint64_t) v)
		lttng_ust_field_integer_hex(int32_t, x32, (int32_t) v)
		lttng_ust_field_integer_hex(uint64_t, x64, (uint64_t) v)
		lttng_ust_field_integer_network(int32_t, n32, (int32_t) v)
		lttng_ust_field_integer_network(uint16_t, n16, (uint16_t) v)
		lttng_ust_field_integer_network_hex(uint64_t, nx64, (uint64_t) v)
		lttng_ust_field_integer_nowrite(int, hidden, i)
		lttng_ust_field_enum(texts, colour, int, colour, i % 6)
		lttng_ust_field_enum(texts, colour, uint16_t, colour16, (uint16_t) (i % 5 == 4 ? 1000 : i % 5))
	)
)

LTTNG_UST_TRACEPOINT_EVENT(texts, floats,
	LTTNG_UST_TP_ARGS(int, i, double, d),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_float(float, f, (float) d)
		lttng_ust_field_float(double, d, d)
		lttng_ust_field_float(double, neg, -d * 1e-7)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(texts, texts,
	LTTNG_UST_TP_ARGS(int, i, const char *, s, const char *, arr, const char *, seq, size_t, seqlen),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, i, i)
		lttng_ust_field_string(str, s)
		lttng_ust_field_array_text(char, text8, arr, 8)
		lttng_ust_field_sequence_text(char, seqtext, seq, size_t, seqlen)
		lttng_ust_field_string(str2, seq)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(texts, arrays,
	LTTNG_UST_TP_ARGS(int, i, const int32_t *, a, const uint8_t *, b, size_t, n),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_array(int32_t, arr, a, 3)
		lttng_ust_field_array_hex(int32_t, arrhex, a, 3)
		lttng_ust_field_array_network(int32_t, arrnet, a, 2)
		lttng_ust_field_array_network_hex(int32_t, arrnethex, a, 2)
		lttng_ust_field_array(uint8_t, bytes, b, 4)
		lttng_ust_field_sequence(int32_t, seq, a, size_t, n)
		lttng_ust_field_sequence_hex(uint8_t, seqhex, b, unsigned int, n)
		lttng_ust_field_sequence_network(int32_t, seqnet, a, uint16_t, n)
		lttng_ust_field_sequence_network_hex(int32_t, seqnethex, a, uint8_t, n)
		lttng_ust_field_array_text(char, name, "short", 6)
		lttng_ust_field_sequence_text(char, tail, (const char *) b, size_t, n % 3)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(texts, mixed,
	LTTNG_UST_TP_ARGS(int, i, const char *, s, size_t, n),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_sequence_text(char, seqtext, s, uint8_t, n)
		lttng_ust_field_integer(int, i, i)
		lttng_ust_field_string(str, s + n)
	)
)

#endif /* _TEXTS_TP_H */

#include <lttng/tracepoint-event.h>
