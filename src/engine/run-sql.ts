// Runs one SQL text on a trace's tables and returns its columns and rows; DuckDB's errors become one-line
// LttErrors (ENGINE_SQL) so the CLI prints them without a stack trace.

import type { DuckDBConnection } from '@duckdb/node-api';
import { LttError } from '../errors.js';

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
  const where = table === undefined ? `table_name NOT LIKE 'payload:%'` : `table_name = '${table.replace(/'/g, "''")}'`;
  return runSql(
    conn,
    `SELECT table_name AS "table", string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) AS columns
     FROM information_schema.columns WHERE table_schema = 'main' AND ${where} GROUP BY table_name ORDER BY table_name`,
  );
}
