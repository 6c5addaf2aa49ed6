// The daemon's sessions by name, and their locks. withSession() serialises every command touching one session
// (kernel operations await, so two clients could otherwise interleave on the same channel); commands on
// different sessions run concurrently. A session destroyed while a command waited for its lock is reported as
// not found, as if the waiter had come later.

import { ControlError } from '../control/error-codes.js';
import type { LockedSession, Session } from './session.js';

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  has(name: string): boolean {
    return this.sessions.has(name);
  }

  /** Sessions in creation order. */
  all(): Session[] {
    return [...this.sessions.values()];
  }

  add(session: Session): void {
    if (this.sessions.has(session.name)) throw new ControlError('EXIST_SESS');
    this.sessions.set(session.name, session);
  }

  remove(session: Session): void {
    if (this.sessions.get(session.name) === session) this.sessions.delete(session.name);
  }

  async withSession<T>(name: string, fn: (session: LockedSession) => Promise<T>): Promise<T> {
    const session = this.sessions.get(name);
    if (!session) throw new ControlError('SESS_NOT_FOUND');
    return await lockSession(session, async (locked) => {
      if (locked.destroyed) throw new ControlError('SESS_NOT_FOUND');
      return await fn(locked);
    });
  }
}

/** Runs `fn` once every earlier holder of `session`'s lock is done. */
export async function lockSession<T>(session: Session, fn: (session: LockedSession) => Promise<T>): Promise<T> {
  const previous = session.lockTail;
  let release!: () => void;
  session.lockTail = new Promise<void>((resolve) => (release = resolve));
  await previous;
  try {
    return await fn(session as LockedSession);
  } finally {
    release();
  }
}
