// import-prices.mjs: applies a file of price and stock changes to a store,
// safely against concurrent edits and retries.
//
//   STORESYNC_URL=http://127.0.0.1:8080 STORESYNC_TOKEN=… \
//     node import-prices.mjs s1 changes.json [--on-conflict skip|overwrite]
//
// changes.json is an array of {"id", "version", "price"?, "stock"?}: the
// version is the one the change was prepared against (from an export or a
// GET). Each change is a PATCH with
// - If-Match: that version, so a product someone edited meanwhile is not
//   overwritten blindly (412 version_stale, with the current product);
// - Idempotency-Key: derived from the change itself, so sending it again
//   (a retry after a timeout, or running the whole file again after a
//   crash) answers the first result and changes nothing.
// Exit status: 0 when every change is in, 2 when some were skipped.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const [store, file, ...rest] = process.argv.slice(2);
const onConflict = rest[0] === "--on-conflict" ? rest[1] : "skip";
const base = process.env.STORESYNC_URL ?? "http://127.0.0.1:8080";
const token = process.env.STORESYNC_TOKEN;
if (!store || !file || !token || !["skip", "overwrite"].includes(onConflict)) {
  console.error("usage: STORESYNC_TOKEN=… node import-prices.mjs STORE FILE [--on-conflict skip|overwrite]");
  process.exit(64);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One PATCH, retried with the same key (so at most once applied) while the
// server is busy (429, 503) or the connection fails.
async function patch(id, version, fields) {
  const key = createHash("sha256").update(JSON.stringify([store, id, version, fields])).digest("hex");
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${base}/api/v1/stores/${store}/products/${id}`, {
        method: "PATCH",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "if-match": `"${version}"`,
          "idempotency-key": key,
        },
        body: JSON.stringify(fields),
      });
      if ((res.status === 429 || res.status === 503) && attempt < 5) {
        await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
        continue;
      }
      return { status: res.status, body: await res.json() };
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(1000);
    }
  }
}

let skipped = 0;
for (const { id, version, ...fields } of JSON.parse(readFileSync(file, "utf8"))) {
  let res = await patch(id, version, fields);
  if (res.status === 412 && onConflict === "overwrite") {
    // Someone changed the product since `version`: apply our fields on top
    // of the current version (their other changes stay).
    const current = res.body.error.details.current;
    console.log(`conflict id=${id} version=${version} current=${current.version}: overwriting`);
    res = await patch(id, current.version, fields);
  }
  if (res.status === 200) {
    console.log(`updated id=${id} version=${res.body.product.version} seq=${res.body.seq}`);
  } else if (res.status === 412) {
    const current = res.body.error.details.current;
    console.log(`conflict id=${id} version=${version} current=${current.version}: skipped`);
    skipped++;
  } else {
    console.log(`refused id=${id} status=${res.status} code=${res.body.error.code}: ${res.body.error.message}`);
    skipped++;
  }
}
process.exit(skipped ? 2 : 0);
