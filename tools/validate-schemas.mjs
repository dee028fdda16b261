// validate-schemas.mjs: check Kubernetes and Flux objects against their API
// schemas (the kubernetes-models and @kubernetes-models/flux-cd packages).
//
// Usage: node tools/validate-schemas.mjs FILE... (- reads standard input)
//
// Every YAML document in every file must be an object whose apiVersion and
// kind the packages know; an unknown kind is an error, never a silent pass.
// Prints one line per invalid object and a summary; exits 1 on any error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const FLUX_GROUP = /\.toolkit\.fluxcd\.io$/;

function modulePath(apiVersion, kind) {
	const slash = apiVersion.indexOf("/");
	if (slash < 0)
		return `kubernetes-models/${apiVersion}/${kind}`;
	const group = apiVersion.slice(0, slash);
	if (FLUX_GROUP.test(group))
		return `@kubernetes-models/flux-cd/${apiVersion}/${kind}`;
	return `kubernetes-models/${apiVersion}/${kind}`;
}

async function validateObject(obj) {
	if (obj === null || typeof obj !== "object" || Array.isArray(obj))
		return "document is not a mapping";
	if (!obj.apiVersion || !obj.kind)
		return "apiVersion or kind missing";
	let mod;
	try {
		mod = await import(modulePath(obj.apiVersion, obj.kind));
	} catch {
		return `no schema known for ${obj.apiVersion} ${obj.kind}`;
	}
	const Kind = mod[obj.kind] ?? mod.default;
	try {
		new Kind(obj).validate();
	} catch (e) {
		return e.message.split("\n").slice(0, 6).join("; ");
	}
	return null;
}

async function main(files) {
	if (files.length === 0) {
		console.error("usage: node validate-schemas.mjs FILE...");
		process.exit(2);
	}
	let checked = 0;
	let invalid = 0;
	for (const file of files) {
		const text = readFileSync(file === "-" ? 0 : file, "utf8");
		for (const doc of parseAllDocuments(text)) {
			if (doc.errors.length) {
				console.log(`${file}: yaml: ${doc.errors[0].message}`);
				invalid++;
				continue;
			}
			const obj = doc.toJS();
			if (obj === null)
				continue;
			checked++;
			const error = await validateObject(obj);
			if (error) {
				const name = obj?.metadata?.name ?? "?";
				console.log(`${file}: ${obj?.kind ?? "?"}/${name}: ${error}`);
				invalid++;
			}
		}
	}
	console.log(`schemas: ${checked} objects checked, ${invalid} invalid`);
	process.exit(invalid || checked === 0 ? 1 : 0);
}

await main(process.argv.slice(2));
