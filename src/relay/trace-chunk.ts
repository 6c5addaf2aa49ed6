// A trace chunk as the relay keeps it: the folder (relative to the session folder) where streams created while
// it is current write, and which streams still write there. A session daemon closes a chunk, rotates its
// streams away from it (to no chunk when it destroys the session) and then asks until it no longer exists:
// that is, until every stream that wrote there has its data up to the rotation point or has closed.

export class TraceChunk {
  closed = false;
  private readonly holders = new Set<object>();

  constructor(
    readonly id: bigint,
    readonly path: string,
  ) {}

  hold(stream: object): void {
    this.holders.add(stream);
  }

  release(stream: object): void {
    this.holders.delete(stream);
  }

  get exists(): boolean {
    return !this.closed || this.holders.size > 0;
  }
}
