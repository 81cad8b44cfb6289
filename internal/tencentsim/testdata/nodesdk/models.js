// Strict checking of an answer against the SDK's own TypeScript models
// (tencentcloud-sdk-nodejs, services/<svc>/<version>/<svc>_models.d.ts):
// every field present must be declared in the model with the right JSON
// type, a field the model marks required must be there, and null is
// accepted only where the model's comment says the field may return null
// ("此字段可能返回 null"). The models are read from the installed package,
// so a newer pinned SDK is checked against its own models.
"use strict";

const fs = require("fs");
const path = require("path");

// parse reads `export interface Name { Field?: Type; ... }` blocks, with
// each field's comment, into {Name: {Field: {type, optional, nullable}}}.
function parse(file) {
  const src = fs.readFileSync(file, "utf8");
  const models = {};
  const re = /export interface (\w+) \{([\s\S]*?)\n\}/g;
  let m;
  while ((m = re.exec(src))) {
    const fields = {};
    let comment = "";
    for (const line of m[2].split("\n")) {
      const f = /^\s{4}(\w+)(\?)?: (.+);$/.exec(line);
      if (f) {
        fields[f[1]] = { type: f[3], optional: !!f[2], nullable: comment.includes("可能返回 null") };
        comment = "";
      } else {
        comment += line;
      }
    }
    models[m[1]] = fields;
  }
  return models;
}

function load(service, version) {
  const dir = path.dirname(require.resolve(`tencentcloud-sdk-nodejs/tencentcloud/services/${service}`));
  return parse(path.join(dir, version, `${service}_models.d.ts`));
}

// check returns the violations of value against type ("string", "number",
// "boolean", "Array<T>" or a model name), by JSON path.
function check(models, value, type, where, out = []) {
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(value)) {
      out.push(`${where}: ${JSON.stringify(value)} is not an array`);
      return out;
    }
    value.forEach((v, i) => check(models, v, arr[1], `${where}[${i}]`, out));
    return out;
  }
  if (type === "string" || type === "boolean") {
    if (typeof value !== type) {
      out.push(`${where}: ${JSON.stringify(value)} is not a ${type}`);
    }
    return out;
  }
  if (type === "number") {
    if (typeof value !== "number" && typeof value !== "bigint") {
      out.push(`${where}: ${JSON.stringify(value)} is not a number`);
    }
    return out;
  }
  const model = models[type];
  if (!model) {
    out.push(`${where}: the SDK has no model ${type}`);
    return out;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    out.push(`${where}: ${JSON.stringify(value)} is not a ${type} object`);
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    const f = model[k];
    if (!f) {
      out.push(`${where}.${k}: not in the SDK's ${type}`);
    } else if (v === null) {
      if (!f.nullable) {
        out.push(`${where}.${k}: null, which the SDK's ${type} does not allow`);
      }
    } else {
      check(models, v, f.type, `${where}.${k}`, out);
    }
  }
  for (const [k, f] of Object.entries(model)) {
    if (!f.optional && !(k in value)) {
      out.push(`${where}.${k}: required by the SDK's ${type}, missing`);
    }
  }
  return out;
}

module.exports = { load, check };
