// Preload for Azurite (node -r bench/azurite-durable.js node_modules/azurite/dist/src/azurite.js --location ...):
// every write Azurite acknowledges is on disk first, as with real Azure Storage.
//
// Azurite keeps its metadata in LokiJS databases that it saves every 5 s (autosave); a SIGKILL loses the writes
// acknowledged since the last save. This wraps the mutating methods of the Loki metadata stores (table, queue,
// blob, and the extent stores that locate queue message texts and blob blocks) so that each one awaits
// db.saveDatabase() before it returns, hence before the handler sends its response. LokiJS throttles saves: a save
// requested while one is running waits for the next, which serializes the database after the change, so
// concurrent writes share saves (group commit). A save writes `<db>~` and renames it over the database file, so a
// killed process leaves either the old or the new file, never half of one. (Nothing is fsync'd: this survives
// the process being killed, which is what ./dev faults does, not the machine losing power.)
//
// Used by ./dev faults only; ./dev bench runs Azurite in memory. Fails loudly at start when Azurite's internals
// no longer look as expected (another Azurite version), instead of silently running without durability.
"use strict";
const path = require("path");
const { AsyncLocalStorage } = require("async_hooks");

const dist = path.join(__dirname, "..", "node_modules", "azurite", "dist", "src");
const load = (relative, name) => {
  const mod = require(path.join(dist, relative));
  const cls = mod.default || mod[name];
  if (typeof cls !== "function") throw new Error(`azurite-durable: ${relative} exports no class ${name}`);
  return cls;
};

// Set while a wrapped method runs: methods it calls (insertOrUpdateTableEntity -> updateTableEntity) do not save
// on their own; the outermost one saves once.
const inside = new AsyncLocalStorage();

function save(db) {
  return new Promise((resolve, reject) => db.saveDatabase((err) => (err ? reject(err) : resolve())));
}

/**
 * @param cls       the store class; its instances have a LokiJS `db`
 * @param names     mutating methods (all must exist)
 * @param options   batchArg: the method's last declared parameter is a table batch id (save at endBatchTransaction
 *                  instead); ifDirty: save only when the call changed something (queue dequeue on an empty queue)
 */
function durable(cls, names, options = {}) {
  for (const name of names) {
    const original = cls.prototype[name];
    if (typeof original !== "function") throw new Error(`azurite-durable: ${cls.name}.${name} is missing`);
    const batchIndex = options.batchArg ? original.length - 1 : -1;
    cls.prototype[name] = async function (...args) {
      if (inside.getStore()) return original.apply(this, args);
      const result = await inside.run(true, () => original.apply(this, args));
      // Inside a table batch (entity group transaction): no I/O mid-transaction; endBatchTransaction saves.
      if (batchIndex >= 0 && args[batchIndex]) return result;
      // Nothing changed and no save in flight that might hold a change: the disk already has everything.
      if (options.ifDirty && !this.db.autosaveDirty() && !this.db.throttledSavePending) return result;
      await save(this.db);
      return result;
    };
  }
}

durable(load("table/persistence/LokiTableMetadataStore.js", "LokiTableMetadataStore"),
  ["createTable", "deleteTable", "setTableACL", "setServiceProperties", "endBatchTransaction"]);
durable(load("table/persistence/LokiTableMetadataStore.js", "LokiTableMetadataStore"),
  ["insertTableEntity", "insertOrUpdateTableEntity", "insertOrMergeTableEntity", "updateTableEntity",
    "mergeTableEntity", "deleteTableEntity"], { batchArg: true });

const queue = load("queue/persistence/LokiQueueMetadataStore.js", "LokiQueueMetadataStore");
durable(queue, ["updateServiceProperties", "createQueue", "deleteQueue", "setQueueACL", "setQueueMetadata",
  "insertMessage", "deleteMessage", "updateMessage", "clearMessages"]);
// A dequeue hands out a pop receipt and counts the delivery: durable too, but free when the queue was empty.
durable(queue, ["getMessages"], { ifDirty: true });

durable(load("common/persistence/LokiExtentMetadataStore.js", "LokiExtentMetadataStore"),
  ["updateExtent", "deleteExtent"]);

durable(load("blob/persistence/LokiBlobMetadataStore.js", "LokiBlobMetadataStore"), [
  "setServiceProperties", "createContainer", "deleteContainer", "setContainerMetadata", "setContainerACL",
  "acquireContainerLease", "releaseContainerLease", "renewContainerLease", "breakContainerLease",
  "changeContainerLease", "createBlob", "createSnapshot", "deleteBlob", "setBlobHTTPHeaders", "setBlobMetadata",
  "acquireBlobLease", "releaseBlobLease", "renewBlobLease", "changeBlobLease", "breakBlobLease",
  "startCopyFromURL", "copyFromURL", "setTier", "stageBlock", "appendBlock", "commitBlockList", "uploadPages",
  "clearRange", "resizePageBlob", "updateSequenceNumber", "setBlobTag", "sealBlob"]);

process.stderr.write("azurite-durable: table, queue and blob writes are saved to disk before they are acknowledged\n");
