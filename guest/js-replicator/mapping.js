// `replicator-js`: Confluent Replicator offsets to MM2 offsets, in JavaScript (a smaller
// sibling of the Rust `replicator-to-mm2`), componentized with componentize-js against
// wit/mapping.wit. Proof that the contract is language-neutral; built and run by tests/js_plugin.rs.
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let config = null;

// Jackson's escaping: " and \ and control characters only; \u00XX with upper-case hex.
function jacksonString(s) {
  const short = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0);
    if (short[ch]) out += short[ch];
    else if (code < 0x20) out += '\\u00' + code.toString(16).toUpperCase().padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

export const mapper = {
  describe() {
    return {
      name: 'replicator-js',
      version: '0.1.0',
      contractVersion: '0.1.0',
      description: 'Confluent Replicator offsets to MM2 offsets, written in JavaScript',
      config: [
        { name: 'source.cluster.alias', type: 'string', required: true, defaultValue: undefined,
          importance: 'high', documentation: 'The MM2 alias of the source cluster.', validValues: [] },
      ],
    };
  },
  configure(settings) {
    const alias = settings.find(([k]) => k === 'source.cluster.alias');
    if (!alias || alias[1] === '') {
      throw [{ key: 'source.cluster.alias', message: 'required key is missing' }];
    }
    config = { alias: alias[1] };
  },
  apply(batch) {
    return batch.map((record) => {
      if (!record.key) return { tag: 'invalid', val: 'record has no key' };
      let key;
      try { key = JSON.parse(decoder.decode(record.key)); } catch (e) { return { tag: 'invalid', val: 'key is not JSON' }; }
      if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== 'string') return { tag: 'invalid', val: 'not a Connect offset key' };
      if (key[0] !== 'replicator') return { tag: 'skipped', val: { reason: 'other-connector', detail: key[0] } };
      const { topic, partition } = key[1];
      const canonical = '[' + jacksonString(key[0]) + ',{"topic":' + jacksonString(topic) + ',"partition":' + partition + '}]';
      if (canonical !== decoder.decode(record.key)) return { tag: 'skipped', val: { reason: 'non-canonical-key', detail: canonical } };
      if (!record.value) return { tag: 'skipped', val: { reason: 'tombstone', detail: topic } };
      const offset = JSON.parse(decoder.decode(record.value)).offset;
      if (!Number.isSafeInteger(offset) || offset < 0) return { tag: 'invalid', val: `offset of ${topic}/${partition} is not an integer >= 0` };
      const outKey = '["MirrorSourceConnector",{"cluster":' + jacksonString(config.alias) + ',"partition":' + partition + ',"topic":' + jacksonString(topic) + '}]';
      return { tag: 'emit', val: [{
        topic: `mm2-offsets.${config.alias}.internal`, partition: undefined, offset: undefined, timestamp: undefined,
        key: encoder.encode(outKey), value: encoder.encode(`{"offset":${offset}}`), headers: [],
      }] };
    });
  },
  close() {},
};
