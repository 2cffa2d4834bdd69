// Checks a value against a schema of the served OpenAPI document: the JSON Schema subset the
// document uses (type incl. ["x","null"], enum, const, properties, required, items, minItems,
// maxItems, minimum, maximum, pattern, oneOf, $ref). Returns a list of problems ([] = valid).
export function validate(doc, schema, value, where = '$') {
  if (schema.$ref) return validate(doc, resolve(doc, schema.$ref), value, where);
  const problems = [];
  if (schema.oneOf) {
    const ok = schema.oneOf.filter((s) => validate(doc, s, value, where).length === 0).length;
    if (ok !== 1) problems.push(`${where}: matches ${ok} of oneOf`);
    return problems;
  }
  if ('const' in schema && value !== schema.const) problems.push(`${where}: ${JSON.stringify(value)} !== const ${schema.const}`);
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${where}: ${JSON.stringify(value)} not in ${schema.enum}`);
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => is(t, value))) {
      problems.push(`${where}: ${JSON.stringify(value)} is not ${types.join('|')}`);
      return problems;
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${where}: ${value} < ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${where}: ${value} > ${schema.maximum}`);
  }
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value)) {
    problems.push(`${where}: ${value} does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${where}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${where}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => problems.push(...validate(doc, schema.items, v, `${where}[${i}]`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of schema.required || []) if (!(key in value)) problems.push(`${where}: missing ${key}`);
    for (const [key, sub] of Object.entries(schema.properties || {})) {
      if (key in value) problems.push(...validate(doc, sub, value[key], `${where}.${key}`));
    }
  }
  return problems;
}

function is(type, v) {
  switch (type) {
    case 'null': return v === null;
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'array': return Array.isArray(v);
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v);
    default: return false;
  }
}

function resolve(doc, ref) {
  return ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k], doc);
}

// The schema of the JSON answer of `method path` with `status` in the document.
export function responseSchema(doc, template, method, status) {
  const op = doc.paths[template]?.[method];
  if (!op) throw new Error(`${method} ${template}: not in the OpenAPI document`);
  const r = op.responses[String(status)];
  if (!r) throw new Error(`${method} ${template}: status ${status} is not documented`);
  return r.content?.['application/json']?.schema;
}
