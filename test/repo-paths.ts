// Where tests and benches find the repository and the project's shared, read-only material (the CTF corpus,
// the peers' sample outputs and apps): `shared/` beside the repository, as CI lays out a fresh clone, or
// wherever LTT_SHARED says. The corpus alone can be moved with LTT_CTF_CORPUS.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file (test/ or dist/test/) holding package.json. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

export const SHARED = process.env.LTT_SHARED || resolve(REPO_ROOT, '..', 'shared');
export const CORPUS = process.env.LTT_CTF_CORPUS || join(SHARED, 'ctf-traces');
export const PEERS = join(SHARED, 'peers');
