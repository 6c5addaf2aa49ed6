// The page's requests to the ltt web server (protocol.ts). A request superseded by a newer one is aborted.

export class ApiError extends Error {}

export async function getJson<T>(path: string, params: Record<string, string | number> = {}, signal?: AbortSignal): Promise<T> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
  return readJson<T>(await fetch(qs ? `${path}?${qs}` : path, { signal }));
}

/** An answer's body, or its error as an ApiError. */
export async function readJson<T>(res: Response): Promise<T> {
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new ApiError(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

/** Runs one request at a time per channel: starting one aborts the one before. */
export class Latest {
  private ctl: AbortController | undefined;

  async get<T>(path: string, params: Record<string, string | number>): Promise<T | undefined> {
    this.ctl?.abort();
    const ctl = (this.ctl = new AbortController());
    try {
      return await getJson<T>(path, params, ctl.signal);
    } catch (err) {
      if (ctl.signal.aborted) return undefined;
      throw err;
    }
  }
}
