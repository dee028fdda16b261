// yaml-to-json.mjs: turn a stream of YAML documents into one JSON array, so
// that shell tests can query rendered manifests with jq.
//
// Usage: node tools/yaml-to-json.mjs [FILE]   (standard input without FILE)
// Empty documents are dropped; a YAML error names the document and exits 1.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const file = process.argv[2] ?? "-";
const text = readFileSync(file === "-" ? 0 : file, "utf8");
const out = [];
let index = 0;
for (const doc of parseAllDocuments(text)) {
	index++;
	if (doc.errors.length) {
		console.error(`${file}: document ${index}: ${doc.errors[0].message}`);
		process.exit(1);
	}
	const value = doc.toJS();
	if (value !== null && value !== undefined)
		out.push(value);
}
process.stdout.write(JSON.stringify(out) + "\n");
