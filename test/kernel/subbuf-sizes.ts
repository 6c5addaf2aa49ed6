// The ring-buffer sub-buffer sizes kernel tests cover, and how a test says the kernel refused one. Kernels before
// 6.8 have no buffer_subbuf_size_kb and some refuse every write to it (EPERM): such a kernel keeps its one-page
// default, so the larger sizes are skipped there, each saying why, while the default size is always tested.
import type { TestContext } from 'node:test';

/** The one-page default every kernel has, and a larger size the kernel may refuse. */
export function subbufSizes(larger: number): number[] {
  return [4096, larger];
}

/** Skips the sub-test, saying why, when the kernel applied another sub-buffer size than `asked`. */
export function skipUnlessApplied(t: TestContext, asked: number, applied: number): boolean {
  if (applied === asked) return false;
  t.skip(`this kernel keeps ${applied / 1024} KiB sub-buffers: it did not apply ${asked / 1024} KiB (buffer_subbuf_size_kb)`);
  return true;
}
