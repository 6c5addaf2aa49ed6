/* app N: records N events (bench:measure and bench:sample alternating) with pseudo-random values of every
 * magnitude, so that the float printing, the string decoding and the array/sequence printing all take part. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tp.h"

static uint64_t seed = 88172645463325252ULL;

static uint64_t next(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "alpha", "beta", "gamma-ray burst", "delta/compute/phase-2", "café crème", "zeta z" };
	static const char *tags[] = { "io", "cpu-bound", "net", "disk0", "mem/heap", "x" };
	long n = argc > 1 ? atol(argv[1]) : 1000;
	int vals[8];

	for (long i = 0; i < n; i++) {
		uint64_t r = next();
		/* Mantissas from the generator and exponents from -12 to +12: short decimal values, long ones,
		 * integers and values printed in e-notation all appear. */
		double d = (double)(r >> 11) / 9007199254740992.0 * pow(10.0, (int)(r % 25) - 12);
		if (r % 7 == 0)
			d = (double)(long)(d * 1000) / 1000;
		if (r % 11 == 0)
			d = -d;
		if (i % 2 == 0) {
			const char *tag = tags[(r >> 20) % 6];
			char label[8] = { 0 };
			unsigned int len = strlen(tag);

			strncpy(label, tag, sizeof(label));
			lttng_ust_tracepoint(bench, measure, d, (float)(d * 3.7), (int)(r >> 40),
					     names[(r >> 8) % 6], label, tag, len);
		} else {
			for (int k = 0; k < 8; k++)
				vals[k] = (int)(next() >> 40) - (1 << 23);
			lttng_ust_tracepoint(bench, sample, (int)(r % 6), vals, (unsigned int)(r >> 16) % 8, d / 3,
					     (long)(r >> 3));
		}
	}
	return 0;
}
