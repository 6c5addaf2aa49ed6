/* Tracepoint provider "bench" for bench/view.mjs: events using every lttng_ust_field_* kind that a UST app
 * records (floats/doubles, strings, text arrays and sequences, enums, integer arrays and sequences). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./tp.h"

#if !defined(BENCH_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define BENCH_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_ENUM(bench, state,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("IDLE", 0)
		lttng_ust_field_enum_value("RUNNING", 1)
		lttng_ust_field_enum_range("BLOCKED", 2, 4)
		lttng_ust_field_enum_auto("ZOMBIE")
	)
)

LTTNG_UST_TRACEPOINT_EVENT(bench, measure,
	LTTNG_UST_TP_ARGS(double, d, float, f, int, n, const char *, name, const char *, label,
		const char *, tag, unsigned int, taglen),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_float(double, value, d)
		lttng_ust_field_float(float, ratio, f)
		lttng_ust_field_integer(int, n, n)
		lttng_ust_field_string(name, name)
		lttng_ust_field_array_text(char, label, label, 8)
		lttng_ust_field_sequence_text(char, tag, tag, unsigned int, taglen)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(bench, sample,
	LTTNG_UST_TP_ARGS(int, st, const int *, vals, unsigned int, nvals, double, d, long, id),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(bench, state, int, state, st)
		lttng_ust_field_array(int, window, vals, 4)
		lttng_ust_field_sequence(int, history, vals, unsigned int, nvals)
		lttng_ust_field_array_hex(int, mask, vals, 2)
		lttng_ust_field_integer_hex(long, id, id)
		lttng_ust_field_float(double, mean, d)
	)
)

#endif /* BENCH_TP_H */

#include <lttng/tracepoint-event.h>
