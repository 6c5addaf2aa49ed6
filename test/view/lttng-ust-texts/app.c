/*
 * app.c - emits the events of tp.h from two threads.
 * Usage: ./app [ITERATIONS [SEED [THREADS [PAUSE_US]]]]   (defaults 200, 1, 2, 0)
 * Each thread runs ITERATIONS iterations of one event each (THREADS x
 * ITERATIONS events in all); SEED picks the event kinds and the texts, so
 * different seeds give different traces of the same shape. One thread gives
 * the same events in the same order on every run (the relay tests compare
 * two recordings); PAUSE_US spreads them over time (live viewing).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tp.h"

struct piece { const char *bytes; size_t len; };
#define P(s) { s, sizeof(s) - 1 }

/* Strings: empty ones come after longer ones on purpose. */
static const char *const strings[] = {
	"", "a", "hello world", "tab\there", "nl\nx", "quote\"q", "back\\slash",
	"\xc3\xa9", "\xe2\x9c\x93 check", "a longer string that goes on \xe2\x9c\x93\xc3\xa9 and on",
	"\x01" "ctl\x7f", "z", "", "?'", "\xe2\x9c" /* cut character */, "",
};

/* text8 sources (8 bytes are copied): longer, shorter, embedded NUL, empty, UTF-8 cut inside a character. */
static const struct piece arrays[] = {
	P("abcdefghijkl"), P("ab\0cdefgh"), P("\0\0\0\0\0\0\0\0"), P("abcdef\xe2\x9c\x93"),
	P("abcde\xe2\x9c\x93"), P("\xc3\xa9\"\\\n\t\0"), P("xyz\0\0\0\0\0"), P("\0bcdefgh"),
	P("\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c"), P("1234567\xc3"),
};

/* seqtext sources, read with lengths that go up, down and to zero. */
static const struct piece seqs[] = {
	P("0123456789abcdefghij\xe2\x9c\x93\xc3\xa9\n\t\"\\ tail"), P("ab\0cd\0ef"), P("\0leading nul"),
	P("\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93"), P("short"),
};
static const size_t lens[] = { 5, 9, 0, 3, 12, 0, 0, 7, 1, 20, 2, 0, 31, 4, 0, 6 };

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
	return *s;
}

struct worker { long iterations; uint64_t seed; long pause_us; };

static void *run(void *arg)
{
	struct worker *w = arg;
	uint64_t r = w->seed * 0x9e3779b97f4a7c15ULL + 1;
	char arr[16], seq[64];
	int32_t ints[8];
	uint8_t bytes[8];

	for (long i = 0; i < w->iterations; i++) {
		uint64_t x = next_rand(&r);
		int kind = x % 8;
		int64_t v = (int64_t) next_rand(&r) >> (x % 64);
		const struct piece *a = &arrays[(x >> 8) % (sizeof(arrays) / sizeof(arrays[0]))];
		const struct piece *q = &seqs[(x >> 16) % (sizeof(seqs) / sizeof(seqs[0]))];
		size_t n = lens[(i + (x >> 24) % 3) % (sizeof(lens) / sizeof(lens[0]))];
		const char *s = strings[(x >> 32) % (sizeof(strings) / sizeof(strings[0]))];

		memset(arr, 'Q', sizeof(arr));
		memcpy(arr, a->bytes, a->len < sizeof(arr) ? a->len : sizeof(arr));
		memset(seq, 0, sizeof(seq));
		memcpy(seq, q->bytes, q->len);
		if (n > q->len) n = q->len;
		for (int k = 0; k < 8; k++) {
			ints[k] = (int32_t) (v >> k) - k * 1000;
			bytes[k] = (uint8_t) (x >> (8 * k));
		}
		switch (kind) {
		case 0:
			lttng_ust_tracepoint(texts, ints, (int) i, v);
			break;
		case 1:
			lttng_ust_tracepoint(texts, floats, (int) i, (double) v / 3.0);
			break;
		case 2:
			lttng_ust_tracepoint(texts, arrays, (int) i, ints, bytes, n % 9);
			break;
		case 3:
			lttng_ust_tracepoint(texts, mixed, (int) i, seq, n);
			break;
		default:
			lttng_ust_tracepoint(texts, texts, (int) i, s, arr, seq, n);
			break;
		}
		if (w->pause_us > 0)
			usleep(w->pause_us);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 200;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	int threads = argc > 3 ? atoi(argv[3]) : 2;
	long pause_us = argc > 4 ? atol(argv[4]) : 0;
	struct worker w[2] = { { iterations, seed * 2 + 1, pause_us }, { iterations, seed * 2 + 2, pause_us } };
	pthread_t t[2];

	if (iterations < 0 || threads < 1 || threads > 2 || pause_us < 0) {
		fprintf(stderr, "usage: %s [ITERATIONS [SEED [THREADS [PAUSE_US]]]]\n", argv[0]);
		return 1;
	}
	for (int k = 0; k < threads; k++)
		if (pthread_create(&t[k], NULL, run, &w[k]) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (int k = 0; k < threads; k++)
		pthread_join(t[k], NULL);
	return 0;
}
