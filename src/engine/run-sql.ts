// Runs one SQL text on a trace's tables and returns its columns and rows; DuckDB's errors become one-line
// LttErrors (ENGINE_SQL) so the CLI prints them without a stack trace.

import type { DuckDBConnection } from '@duckdb/node-api';
import { LttError } from '../errors.js';

/** A name as DuckDB reads it quoted: tables such as "payload:sched_switch" hold a colon. */
export const sqlIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A text as a DuckDB string literal. */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The columns of a table or view (none when there is no such table). */
export async function columnsOf(conn: DuckDBConnection, table: string): Promise<Set<string>> {
  const r = await conn.runAndReadAll(`SELECT column_name FROM duckdb_columns() WHERE table_name = ${sqlString(table)}`);
  return new Set(r.getRows().map((row) => String(row[0])));
}

export interface SqlResult {
  readonly columns: string[];
  readonly rows: unknown[][];
}

export async function runSql(conn: DuckDBConnection, sql: string): Promise<SqlResult> {
  try {
    const reader = await conn.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRows() as unknown[][] };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new LttError('ENGINE_SQL', message.replace(/\s*\n\s*/g, ' ').trim());
  }
}

/** The tables and views a user can query, with their columns (for `.tables`, `.schema` and the help). */
export async function schemaOf(conn: DuckDBConnection, table?: string): Promise<SqlResult> {
  const where = table === undefined ? `table_name NOT LIKE 'payload:%'` : `table_name = ${sqlString(table)}`;
  return runSql(
    conn,
    `SELECT table_name AS "table", string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) AS columns
     FROM information_schema.columns WHERE table_schema = 'main' AND ${where} GROUP BY table_name ORDER BY table_name`,
  );
}
