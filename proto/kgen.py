#!/usr/bin/env python3
"""kgen.py - generate the Kafka message codec (kmsg.c / kmsg.h) from proto/kafka/*.api
and the data schemas (Kafka's "type": "data": records of internal topics) in proto/kafka/*.data.

Usage: python3 proto/kgen.py --out build/gen proto/kafka/*.api proto/kafka/*.data

Writes:
  <out>/kmsg.h             structs, prototypes, API table (the handlers' reference)
  <out>/kmsg.c             bounds-checked decoders/encoders built on common/kwire
  <out>/kmsg_selftest.inc  test-only fill/compare helpers, #included by broker/kmsg_test.c

The .api/.data format is documented in proto/README.md.  Python 3 standard library only.
"""
import argparse
import os
import re
import sys

INF = 1 << 30
INT_TYPES = {
    'int8': ('int8_t', 'i8', -128, 127),
    'int16': ('int16_t', 'i16', -32768, 32767),
    'int32': ('int32_t', 'i32', -2147483648, 2147483647),
    'int64': ('int64_t', 'i64', -(1 << 63), (1 << 63) - 1),
    'uint16': ('uint16_t', 'u16', 0, 65535),
    'uint32': ('uint32_t', 'u32', 0, (1 << 32) - 1),
}
PRIMS = set(INT_TYPES) | {'float64', 'bool', 'string', 'bytes', 'records', 'uuid'}
C_KEYWORDS = {'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double',
              'else', 'enum', 'extern', 'float', 'for', 'goto', 'if', 'inline', 'int', 'long',
              'register', 'restrict', 'return', 'short', 'signed', 'sizeof', 'static', 'struct',
              'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while', 'bool'}


class SpecError(Exception):
    pass


def snake(name):
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s)
    return s.lower()


def parse_range(text, where):
    """'3+' -> (3, INF); '2-4' -> (2, 4); '5' -> (5, 5); 'none' -> None."""
    if text == 'none':
        return None
    m = re.fullmatch(r'(\d+)\+', text)
    if m:
        return (int(m.group(1)), INF)
    m = re.fullmatch(r'(\d+)-(\d+)', text)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            raise SpecError('%s: empty version range %s' % (where, text))
        return (lo, hi)
    m = re.fullmatch(r'\d+', text)
    if m:
        return (int(text), int(text))
    raise SpecError('%s: bad version range %r' % (where, text))


def range_str(r):
    if r is None:
        return 'none'
    if r[1] >= INF:
        return 'v%d+' % r[0]
    if r[0] == r[1]:
        return 'v%d' % r[0]
    return 'v%d-%d' % r


class Field:
    def __init__(self):
        self.name = ''
        self.kind = ''         # 'prim', 'array', 'struct'
        self.type = ''         # prim name, or element prim name for arrays of prims
        self.struct = None     # Struct for 'struct' and arrays of structs
        self.versions = None
        self.nullable = None
        self.tag = None
        self.default = None
        self.where = ''

    def present(self, v):
        return self.versions[0] <= v <= self.versions[1]

    def nullable_in(self, v):
        return self.nullable is not None and self.nullable[0] <= v <= self.nullable[1]


class Struct:
    def __init__(self, cname, tname):
        self.cname = cname     # e.g. kmsg_produce_req_topic
        self.tname = tname     # e.g. topic ('' for top level)
        self.fields = []


class Api:
    def __init__(self):
        self.name = ''
        self.snake = ''
        self.key = -1
        self.vmin = 0
        self.vmax = 0
        self.flex = INF
        self.req = None
        self.resp = None
        self.structs = []      # every Struct in definition order (children first)
        self.path = ''
        self.kind = 'api'      # 'api' (request + response) or 'data' (one struct)
        self.top = None        # for 'data': the top-level Struct

    def tops(self):
        """(C name, Struct) of each top-level message: req and resp, or the data struct."""
        if self.kind == 'data':
            return [('kmsg_%s' % self.snake, self.top)]
        return [('kmsg_%s_req' % self.snake, self.req), ('kmsg_%s_resp' % self.snake, self.resp)]


def parse_api(path):
    api = Api()
    api.path = path
    lines = []
    with open(path, encoding='utf-8') as f:
        for no, raw in enumerate(f, 1):
            line = raw.split('#', 1)[0].rstrip()
            if not line.strip():
                continue
            if '\t' in raw[:len(raw) - len(raw.lstrip())]:
                raise SpecError('%s:%d: indent with spaces, not tabs' % (path, no))
            indent = len(line) - len(line.lstrip(' '))
            lines.append((no, indent, line.split()))
    if not lines or lines[0][2][0] not in ('api', 'data'):
        raise SpecError('%s: first line must be "api Name key=N versions=A-B flexible=F" '
                        'or "data Name versions=A-B flexible=F"' % path)
    no, _, toks = lines[0]
    api.kind = toks[0]
    if len(toks) < 2:
        raise SpecError('%s:%d: missing %s name' % (path, no, api.kind))
    api.name = toks[1]
    api.snake = snake(api.name)
    attrs = dict(t.split('=', 1) for t in toks[2:] if '=' in t)
    needed = ('key', 'versions', 'flexible') if api.kind == 'api' else ('versions', 'flexible')
    for req in needed:
        if req not in attrs:
            raise SpecError('%s:%d: %s line needs %s=' % (path, no, api.kind, req))
    if api.kind == 'data' and 'key' in attrs:
        raise SpecError('%s:%d: a data schema has no API key' % (path, no))
    api.key = int(attrs['key']) if api.kind == 'api' else -1
    vr = parse_range(attrs['versions'], '%s:%d' % (path, no))
    api.vmin, api.vmax = vr
    fr = parse_range(attrs['flexible'], '%s:%d' % (path, no))
    api.flex = INF if fr is None else fr[0]

    if api.kind == 'data':
        # A data schema (Kafka's "type": "data") is one struct: its fields
        # follow the header line directly, indented one level.
        for no, indent, toks in lines[1:]:
            if indent == 0:
                raise SpecError('%s:%d: a data schema has no sections; indent its fields' % (path, no))
        api.top = build_struct(api, 'kmsg_%s' % api.snake, lines[1:])
        return api

    # Split into request / response sections.
    sections = {}
    cur = None
    for no, indent, toks in lines[1:]:
        if indent == 0:
            if toks[0] not in ('request', 'response') or len(toks) != 1:
                raise SpecError('%s:%d: expected "request" or "response"' % (path, no))
            cur = toks[0]
            if cur in sections:
                raise SpecError('%s:%d: duplicate section %s' % (path, no, cur))
            sections[cur] = []
            continue
        if cur is None:
            raise SpecError('%s:%d: field outside request/response' % (path, no))
        sections[cur].append((no, indent, toks))
    for kind in ('request', 'response'):
        if kind not in sections:
            raise SpecError('%s: missing %s section' % (path, kind))
    api.req = build_struct(api, 'kmsg_%s_req' % api.snake, sections['request'])
    api.resp = build_struct(api, 'kmsg_%s_resp' % api.snake, sections['response'])
    return api


def build_struct(api, prefix, rows):
    top = Struct(prefix, '')
    types = {}
    order = []
    # stack of (indent, struct)
    stack = [(-1, top)]
    tagged_structs = []   # struct types of tagged fields: need _is_default()
    last_field = None
    last_indent = None
    for no, indent, toks in rows:
        where = '%s:%d' % (api.path, no)
        if indent % 2:
            raise SpecError('%s: indent by two spaces per level' % where)
        while stack and indent <= stack[-1][0]:
            stack.pop()
        if last_field is not None and indent > last_indent:
            # children of last_field
            if last_field.struct is None or last_field.struct.fields:
                raise SpecError('%s: only a struct field can have nested fields' % where)
            stack.append((last_indent, last_field.struct))
            if indent != last_indent + 2:
                raise SpecError('%s: nest by exactly two spaces' % where)
        parent = stack[-1][1]
        if len(toks) < 3:
            raise SpecError('%s: field needs "name type versions"' % where)
        f = Field()
        f.where = where
        f.name = toks[0]
        if not re.fullmatch(r'[a-z][a-z0-9_]*', f.name):
            raise SpecError('%s: field names are snake_case: %r' % (where, f.name))
        if f.name in C_KEYWORDS:
            f.name += '_'
        if any(g.name == f.name for g in parent.fields):
            raise SpecError('%s: duplicate field %s' % (where, f.name))
        t = toks[1]
        f.versions = parse_range(toks[2], where)
        if f.versions is None:
            raise SpecError('%s: a field needs versions' % where)
        for kv in toks[3:]:
            if '=' not in kv:
                raise SpecError('%s: expected key=value, got %r' % (where, kv))
            k, v = kv.split('=', 1)
            if k == 'nullable':
                f.nullable = parse_range(v, where)
            elif k == 'tag':
                f.tag = int(v)
            elif k == 'default':
                f.default = v
            else:
                raise SpecError('%s: unknown attribute %r' % (where, k))
        is_arr = t.startswith('[]')
        base = t[2:] if is_arr else t
        if base in PRIMS:
            f.kind = 'array' if is_arr else 'prim'
            f.type = base
            if is_arr and base not in INT_TYPES and base != 'string':
                raise SpecError('%s: arrays of %s are not supported' % (where, base))
        else:
            if not re.fullmatch(r'[a-z][a-z0-9_]*', base):
                raise SpecError('%s: struct type names are snake_case: %r' % (where, base))
            f.kind = 'array' if is_arr else 'struct'
            f.type = base
            if base not in types:
                types[base] = Struct('%s_%s' % (prefix, base), base)
                order.append(types[base])
                f.struct = types[base]
            else:
                # Reference to an already defined type: no children allowed.
                f.struct = types[base]
        if f.nullable is not None and f.kind == 'prim' and f.type not in ('string', 'bytes', 'records'):
            raise SpecError('%s: only strings, bytes, records, arrays and structs are nullable' % where)
        if f.default is not None:
            check_default(f)
        if f.tag is not None and api.flex > api.vmax:
            raise SpecError('%s: tagged field in an API that is never flexible' % where)
        if f.tag is not None and f.versions[0] < api.flex:
            raise SpecError('%s: tagged field present before the first flexible version' % where)
        if f.tag is not None and f.kind == 'struct':
            tagged_structs.append(f.struct)
        parent.fields.append(f)
        last_field, last_indent = f, indent
    for s in order:
        if not s.fields:
            raise SpecError('%s: struct type %s has no fields' % (api.path, s.tname))
    for s in tagged_structs:
        mark_default_checked(s)
    # Children must be emitted before parents: reverse definition order works
    # because a type is always defined inside (after) its parent.
    api.structs.extend(reversed(order))
    api.structs.append(top)
    tags = {}
    for s in order + [top]:
        tags = {}
        for f in s.fields:
            if f.tag is not None:
                if f.tag in tags:
                    raise SpecError('%s: duplicate tag %d' % (f.where, f.tag))
                tags[f.tag] = f
    return top


def check_default(f):
    d = f.default
    if f.kind == 'prim' and f.type in INT_TYPES:
        try:
            v = int(d, 0)
        except ValueError:
            raise SpecError('%s: bad integer default %r' % (f.where, d))
        lo, hi = INT_TYPES[f.type][2], INT_TYPES[f.type][3]
        if not lo <= v <= hi:
            raise SpecError('%s: default %r out of range' % (f.where, d))
    elif f.kind == 'prim' and f.type == 'bool':
        if d not in ('true', 'false'):
            raise SpecError('%s: bool default must be true/false' % f.where)
    elif f.kind == 'prim' and f.type == 'float64':
        float(d)
    elif f.kind == 'prim' and f.type in ('string', 'bytes', 'records'):
        if d != 'null' and not re.fullmatch(r'"[^"\\]*"', d):
            raise SpecError('%s: string default must be null or "text"' % f.where)
        if d == 'null' and f.nullable is None:
            raise SpecError('%s: default null on a non-nullable field' % f.where)
    elif f.kind == 'array':
        if d != 'null':
            raise SpecError('%s: array default can only be null' % f.where)
    elif f.kind == 'struct':
        if d != 'null' or f.nullable is None:
            raise SpecError('%s: a struct default can only be null, on a nullable struct' % f.where)
    else:
        raise SpecError('%s: default not supported on %s' % (f.where, f.kind))


# ---------------------------------------------------------------- C emitters

def c_int_literal(ctype, v):
    if ctype == 'int64_t':
        if v == -(1 << 63):
            return 'INT64_MIN'
        return 'INT64_C(%d)' % v
    if ctype == 'int32_t' and v == -2147483648:
        return 'INT32_MIN'
    if ctype == 'uint32_t':
        return '%dU' % v
    return '%d' % v


def member_decl(f):
    """C member declarations for field f."""
    if f.kind == 'prim':
        t = f.type
        if t in INT_TYPES:
            return ['%s %s;' % (INT_TYPES[t][0], f.name)]
        if t == 'float64':
            return ['double %s;' % f.name]
        if t == 'bool':
            return ['bool %s;' % f.name]
        if t == 'uuid':
            return ['uint8_t %s[16];' % f.name]
        return ['struct bytes %s;' % f.name]
    if f.kind == 'struct':
        if f.nullable is not None:
            return ['bool %s_is_null;' % f.name, 'struct %s %s;' % (f.struct.cname, f.name)]
        return ['struct %s %s;' % (f.struct.cname, f.name)]
    # array
    if f.struct is not None:
        et = 'struct %s' % f.struct.cname
    elif f.type == 'string':
        et = 'struct bytes'
    else:
        et = INT_TYPES[f.type][0]
    return ['int32_t %s_count;' % f.name, '%s *%s;' % (et, f.name)]


def field_doc(f):
    parts = [range_str(f.versions)]
    if f.nullable is not None:
        parts.append('nullable ' + range_str(f.nullable))
    if f.tag is not None:
        parts.append('tag %d' % f.tag)
    if f.default is not None:
        parts.append('default ' + f.default)
    t = ('[]' if f.kind == 'array' else '') + f.type
    return '%s %s' % (t, ', '.join(parts))


def cond(api, r):
    """C condition for 'version in range r' within the API's versions, or None if always."""
    lo, hi = r
    c = []
    if lo > api.vmin:
        c.append('version >= %d' % lo)
    if hi < api.vmax:
        c.append('version <= %d' % hi)
    if lo > api.vmax or hi < api.vmin:
        return '0'
    return ' && '.join(c) if c else None


def null_cond(api, f):
    """C expression: is f nullable in 'version'."""
    if f.nullable is None:
        return 'false'
    c = cond(api, f.nullable)
    return 'true' if c is None else '(%s)' % c


def flex_expr(api):
    if api.flex <= api.vmin:
        return 'true'
    if api.flex > api.vmax:
        return 'false'
    return 'version >= %d' % api.flex


def default_init_lines(f, lhs):
    out = []
    if f.kind == 'prim':
        t = f.type
        if t in INT_TYPES:
            if f.default is not None and int(f.default, 0) != 0:
                out.append('%s = %s;' % (lhs, c_int_literal(INT_TYPES[t][0], int(f.default, 0))))
        elif t == 'bool':
            if f.default == 'true':
                out.append('%s = true;' % lhs)
        elif t == 'float64':
            if f.default is not None and float(f.default) != 0.0:
                out.append('%s = %s;' % (lhs, f.default))
        elif t in ('string', 'bytes'):
            if f.default is None:
                out.append('%s = bytes_make("", 0);' % lhs)
            elif f.default != 'null':
                s = f.default[1:-1]
                out.append('%s = bytes_make("%s", %d);' % (lhs, s, len(s.encode())))
        elif t == 'records':
            if f.default is not None and f.default != 'null':
                s = f.default[1:-1]
                out.append('%s = bytes_make("%s", %d);' % (lhs, s, len(s.encode())))
    elif f.kind == 'struct':
        out.append('%s_init(&%s);' % (f.struct.cname, lhs))
        if f.default == 'null':
            out.append('%s_is_null = true;' % lhs)
    else:
        if f.default == 'null':
            out.append('%s_count = -1;' % lhs)
    return out


def emit_read_prim(api, t, lhs, nullexpr):
    """Statements decoding one primitive into lhs (an lvalue)."""
    if t in INT_TYPES:
        return ['KMSG_TRY(kwire_read_%s(r, &%s));' % (INT_TYPES[t][1], lhs)]
    if t == 'float64':
        return ['KMSG_TRY(kwire_read_f64(r, &%s));' % lhs]
    if t == 'bool':
        return ['KMSG_TRY(kwire_read_bool(r, &%s));' % lhs]
    if t == 'uuid':
        return ['KMSG_TRY(kwire_read_uuid(r, %s));' % lhs]
    if t == 'string':
        return ['KMSG_TRY(kmsg_read_str(r, flex, %s, &%s));' % (nullexpr, lhs)]
    return ['KMSG_TRY(kmsg_read_bytes(r, flex, %s, &%s));' % (nullexpr, lhs)]


def emit_write_prim(api, t, rhs, nullexpr):
    if t in INT_TYPES:
        return ['KMSG_TRY(kwire_write_%s(b, %s));' % (INT_TYPES[t][1], rhs)]
    if t == 'float64':
        return ['KMSG_TRY(kwire_write_f64(b, %s));' % rhs]
    if t == 'bool':
        return ['KMSG_TRY(kwire_write_bool(b, %s));' % rhs]
    if t == 'uuid':
        return ['KMSG_TRY(kwire_write_uuid(b, %s));' % rhs]
    if t == 'string':
        return ['KMSG_TRY(kmsg_write_str(b, flex, %s, %s));' % (nullexpr, rhs)]
    return ['KMSG_TRY(kmsg_write_bytes(b, flex, %s, %s));' % (nullexpr, rhs)]


def emit_field_decode(api, f):
    """Decode statements for field f reading from 'r' into 'out->'."""
    lhs = 'out->%s' % f.name
    ne = null_cond(api, f)
    if f.kind == 'prim':
        return emit_read_prim(api, f.type, lhs, ne)
    if f.kind == 'struct':
        dec = 'KMSG_TRY(%s_dec(r, version, a, &%s));' % (f.struct.cname, lhs)
        if f.nullable is None:
            return [dec]
        # Kafka's nullable struct: an int8 marker (-1 null, 1 present) where nullable
        return ['%s_is_null = false;' % lhs,
                'if (%s) {' % ne,
                '    int8_t present;',
                '    KMSG_TRY(kwire_read_i8(r, &present));',
                '    %s_is_null = present < 0;' % lhs,
                '}',
                'if (!%s_is_null)' % lhs,
                '    ' + dec]
    body = ['KMSG_TRY(kmsg_read_count(r, flex, %s, &%s_count));' % (ne, lhs)]
    if f.struct is not None:
        et = 'struct %s' % f.struct.cname
    elif f.type == 'string':
        et = 'struct bytes'
    else:
        et = INT_TYPES[f.type][0]
    body.append('if (%s_count > 0) {' % lhs)
    body.append('    %s = arena_alloc_array(a, (size_t)%s_count, sizeof(%s));' % (lhs, lhs, et))
    body.append('    if (!%s)' % lhs)
    body.append('        return ERR_LIMIT;')
    body.append('    for (int32_t i = 0; i < %s_count; i++) {' % lhs)
    if f.struct is not None:
        body.append('        %s_init(&%s[i]);' % (f.struct.cname, lhs))
        body.append('        KMSG_TRY(%s_dec(r, version, a, &%s[i]));' % (f.struct.cname, lhs))
    else:
        for s in emit_read_prim(api, f.type, '%s[i]' % lhs, 'false'):
            body.append('        ' + s)
    body.append('    }')
    body.append('}')
    return body


def emit_field_encode(api, f):
    rhs = 'in->%s' % f.name
    ne = null_cond(api, f)
    if f.kind == 'prim':
        return emit_write_prim(api, f.type, rhs, ne)
    if f.kind == 'struct':
        enc = 'KMSG_TRY(%s_enc(b, version, &%s));' % (f.struct.cname, rhs)
        if f.nullable is None:
            return [enc]
        # a null outside the nullable versions is written as the struct's contents
        return ['if (%s) {' % ne,
                '    KMSG_TRY(kwire_write_i8(b, %s_is_null ? -1 : 1));' % rhs,
                '    if (!%s_is_null)' % rhs,
                '        ' + enc,
                '} else {',
                '    ' + enc,
                '}']
    body = ['ASSERT(%s || %s_count <= 0);' % (rhs, rhs),
            'KMSG_TRY(kmsg_write_count(b, flex, %s, %s_count));' % (ne, rhs),
            'for (int32_t i = 0; i < %s_count; i++) {' % rhs]
    if f.struct is not None:
        body.append('    KMSG_TRY(%s_enc(b, version, &%s[i]));' % (f.struct.cname, rhs))
    else:
        for s in emit_write_prim(api, f.type, '%s[i]' % rhs, 'false'):
            body.append('    ' + s)
    body.append('}')
    return body


def default_expr(f, x):
    """C expression: field f, stored at lvalue x, holds its declared default.
    Kafka writes a tagged field only when this is false; a struct is at its
    default when every one of its fields is (Kafka compares it with a freshly
    constructed one)."""
    if f.kind == 'prim':
        t = f.type
        if t in INT_TYPES:
            d = int(f.default, 0) if f.default is not None else 0
            return '%s == %s' % (x, c_int_literal(INT_TYPES[t][0], d))
        if t == 'bool':
            return '%s == %s' % (x, 'true' if f.default == 'true' else 'false')
        if t == 'float64':
            return '%s == %s' % (x, f.default or '0.0')
        if t == 'uuid':
            return 'kmsg_uuid_is_zero(%s)' % x
        if f.default == 'null' or t == 'records':
            return '%s.ptr == NULL' % x
        text = f.default[1:-1] if f.default is not None else ''
        if text:
            return '(%s.ptr != NULL && bytes_eq(%s, bytes_make("%s", %d)))' % (x, x, text, len(text.encode()))
        return '(%s.ptr != NULL && %s.len == 0)' % (x, x)
    if f.kind == 'array':
        if f.default == 'null':
            return '%s_count < 0' % x
        return '%s_count == 0' % x
    if f.default == 'null':
        return '%s_is_null' % x
    return '%s_is_default(&%s)' % (f.struct.cname, x)


def tagged_nondefault(f):
    """C expression: tagged field f differs from its default (so it is written)."""
    return '!(%s)' % default_expr(f, 'in->%s' % f.name)


def mark_default_checked(s):
    """Struct s (and every struct inside it) needs an _is_default() helper."""
    if getattr(s, 'default_checked', False):
        return
    s.default_checked = True
    for f in s.fields:
        if f.kind == 'struct':
            mark_default_checked(f.struct)


def wrap_cond(api, f, stmts, ind):
    c = cond(api, f.versions)
    pad = ' ' * ind
    if c is None:
        return [pad + s for s in stmts]
    out = [pad + 'if (%s) {' % c]
    out += [pad + '    ' + s for s in stmts]
    out.append(pad + '}')
    return out


def gen_struct_c(api, s, hdr, src):
    cn = s.cname
    # header: struct + init prototype
    hdr.append('struct %s {' % cn)
    for f in s.fields:
        decls = member_decl(f)
        for i, d in enumerate(decls):
            doc = ('/* %s */' % field_doc(f)) if i == len(decls) - 1 else ''
            hdr.append('    %-40s %s' % (d, doc) if doc else '    ' + d)
    hdr.append('};')
    hdr.append('void %s_init(struct %s *m);' % (cn, cn))
    hdr.append('')

    # init
    src.append('void %s_init(struct %s *m)' % (cn, cn))
    src.append('{')
    src.append('    memset(m, 0, sizeof(*m));')
    for f in s.fields:
        for line in default_init_lines(f, 'm->%s' % f.name):
            src.append('    ' + line)
    src.append('}')
    src.append('')

    if getattr(s, 'default_checked', False):
        src.append('static bool %s_is_default(const struct %s *m)' % (cn, cn))
        src.append('{')
        src.append('    return %s;' % '\n        && '.join(
            '(%s)' % default_expr(f, 'm->%s' % f.name) for f in s.fields))
        src.append('}')
        src.append('')

    untagged = [f for f in s.fields if f.tag is None]
    tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda g: g.tag)

    # decode (out already initialised by the caller)
    src.append('static int %s_dec(struct kwire_reader *r, int16_t version, struct arena *a, struct %s *out)'
               % (cn, cn))
    src.append('{')
    src.append('    const bool flex = %s;' % flex_expr(api))
    src.append('    (void)flex; (void)a; (void)version;')
    for f in untagged:
        src += wrap_cond(api, f, emit_field_decode(api, f), 4)
    if api.flex <= api.vmax:
        src.append('    if (flex) {')
        if not tagged:
            src.append('        KMSG_TRY(kwire_skip_tags(r));')
        else:
            src.append('        uint32_t tag_count;')
            src.append('        KMSG_TRY(kwire_read_uvarint(r, &tag_count));')
            src.append('        if (tag_count > kwire_remaining(r))')
            src.append('            return ERR_DECODE;')
            src.append('        for (uint32_t t = 0; t < tag_count; t++) {')
            src.append('            uint32_t tag;')
            src.append('            struct kwire_reader field;')
            src.append('            KMSG_TRY(kwire_read_tag(r, &tag, &field));')
            src.append('            struct kwire_reader *outer = r;')
            src.append('            r = &field;')
            src.append('            switch (tag) {')
            for f in tagged:
                src.append('            case %d:' % f.tag)
                src += wrap_cond(api, f, emit_field_decode(api, f), 16)
                src.append('                break;')
            src.append('            default:')
            src.append('                break; /* unknown tags are skipped */')
            src.append('            }')
            src.append('            r = outer;')
            src.append('        }')
        src.append('    }')
    src.append('    return 0;')
    src.append('}')
    src.append('')

    # encode
    src.append('static int %s_enc(struct buf *b, int16_t version, const struct %s *in)' % (cn, cn))
    src.append('{')
    src.append('    const bool flex = %s;' % flex_expr(api))
    src.append('    (void)flex; (void)version; (void)in;')
    for f in untagged:
        src += wrap_cond(api, f, emit_field_encode(api, f), 4)
    if api.flex <= api.vmax:
        src.append('    if (flex) {')
        if not tagged:
            src.append('        KMSG_TRY(kwire_write_empty_tags(b));')
        else:
            src.append('        uint32_t tag_count = 0;')
            for f in tagged:
                c = cond(api, f.versions)
                c = '(%s) && ' % c if c else ''
                src.append('        if (%s%s)' % (c, tagged_nondefault(f)))
                src.append('            tag_count++;')
            src.append('        KMSG_TRY(kwire_write_uvarint(b, tag_count));')
            for f in tagged:
                c = cond(api, f.versions)
                c = '(%s) && ' % c if c else ''
                src.append('        if (%s%s) {' % (c, tagged_nondefault(f)))
                src.append('            KMSG_TRY(kwire_write_uvarint(b, %d));' % f.tag)
                src.append('            size_t pos = b->len;')
                for line in emit_field_encode(api, f):
                    src.append('            ' + line)
                src.append('            KMSG_TRY(kwire_insert_uvarint(b, pos, (uint32_t)(b->len - pos)));')
                src.append('        }')
        src.append('    }')
    src.append('    return 0;')
    src.append('}')
    src.append('')


def gen_top_c(api, cn, hdr, src):
    hdr.append('MUST_CHECK int %s_decode(struct kwire_reader *r, int16_t version, struct arena *a,' % cn)
    hdr.append('                         struct %s *out);' % cn)
    hdr.append('MUST_CHECK int %s_encode(struct buf *b, int16_t version, const struct %s *in);' % (cn, cn))
    hdr.append('')
    src.append('int %s_decode(struct kwire_reader *r, int16_t version, struct arena *a, struct %s *out)'
               % (cn, cn))
    src.append('{')
    src.append('    %s_init(out);' % cn)
    src.append('    if (version < %d || version > %d)' % (api.vmin, api.vmax))
    src.append('        return ERR_UNSUPPORTED;')
    src.append('    return %s_dec(r, version, a, out);' % cn)
    src.append('}')
    src.append('')
    src.append('int %s_encode(struct buf *b, int16_t version, const struct %s *in)' % (cn, cn))
    src.append('{')
    src.append('    if (version < %d || version > %d)' % (api.vmin, api.vmax))
    src.append('        return ERR_UNSUPPORTED;')
    src.append('    return %s_enc(b, version, in);' % cn)
    src.append('}')
    src.append('')


HDR_PROLOGUE = '''/*
 * kmsg.h - GENERATED by proto/kgen.py from proto/kafka/<Name>.api.  Do not edit.
 *
 * The Kafka request/response codec.  For API Foo (prefix kmsg_foo):
 *   struct kmsg_foo_req / kmsg_foo_resp, nested kmsg_foo_<req|resp>_<type>
 *   kmsg_foo_req_decode(r, version, arena, out)   kmsg_foo_req_encode(buf, version, in)
 *   kmsg_foo_resp_decode(...)                     kmsg_foo_resp_encode(...)
 *   kmsg_<any struct>_init(m): zero + the declared defaults.
 * All return 0, ERR_DECODE (malformed input), ERR_LIMIT (arena or buf
 * ceiling) or ERR_UNSUPPORTED (version outside the described range).
 *
 * Decoding: fields absent in `version` keep their declared defaults.
 * Strings/bytes/records BORROW the input frame (ptr NULL = Kafka null) and
 * stay valid only as long as the frame; arrays come from the arena.  A
 * non-nullable string/array that arrives as null is ERR_DECODE.  Array
 * counts are checked against the bytes remaining before any allocation.
 * Unknown tagged fields are skipped.  Trailing bytes after the body are not
 * an error (the caller may check kwire_remaining()).
 *
 * Encoding writes only fields present in `version` (others are dropped).
 * A NULL string or negative count in a non-nullable field is written as
 * empty.  Tagged fields are written only when they differ from the default.
 * An array with count > 0 must have a non-NULL pointer (asserted).
 *
 * Member comments give each field's wire type, versions, nullable versions,
 * tag and default.  Arrays are `int32_t x_count; T *x;` (count -1 = null).
 */
#ifndef SAMSA_KMSG_H
#define SAMSA_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/kwire.h"

struct kmsg_api_info {
    int16_t api_key;
    const char *name;
    int16_t min_version;
    int16_t max_version;
    int16_t flexible_min_version; /* INT16_MAX if never flexible */
};

/* Every described API, sorted by key.  The broker decides what it advertises. */
extern const struct kmsg_api_info kmsg_api_table[];
extern const int kmsg_api_table_count;

/* kmsg_api_find - the table entry for api_key, or NULL if not described. */
const struct kmsg_api_info *kmsg_api_find(int16_t api_key);
/* kmsg_api_is_flexible - api_key is described and version uses the flexible encoding. */
bool kmsg_api_is_flexible(int16_t api_key, int16_t version);

struct kmsg_req_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    struct bytes client_id; /* borrowed; ptr NULL = null */
};

/*
 * kmsg_req_header_decode - request header v1 (key, version, correlation id,
 * nullable int16 client_id) plus, for flexible (key, version), v2's tagged
 * fields.  An unknown key or a version outside the described range returns
 * ERR_UNSUPPORTED with api_key, api_version and correlation_id set (the
 * broker answers ApiVersions with error 35 in v0 layout, or closes).
 * ERR_DECODE if the bytes are malformed.
 */
MUST_CHECK int kmsg_req_header_decode(struct kwire_reader *r, struct kmsg_req_header *out);
/*
 * kmsg_resp_header_encode - response header: correlation id, then (header
 * v1) an empty tagged-field section when (api_key, api_version) is flexible,
 * except for ApiVersions whose response header is always v0.
 */
MUST_CHECK int kmsg_resp_header_encode(struct buf *b, int16_t api_key, int16_t api_version,
                                       int32_t correlation_id);

'''

SRC_PROLOGUE = '''/*
 * kmsg.c - GENERATED by proto/kgen.py from proto/kafka/<Name>.api.  Do not edit.
 * See kmsg.h for the contract.  All wire access goes through common/kwire.
 */
#include "kmsg.h"

#include <string.h>

#include "common/log.h"

#define KMSG_TRY(expr) \\
    do { int kmsg_rc_ = (expr); if (kmsg_rc_) return kmsg_rc_; } while (0)

static int kmsg_read_str(struct kwire_reader *r, bool flex, bool nullable, struct bytes *out)
{
    KMSG_TRY(flex ? kwire_read_compact_string(r, out) : kwire_read_string(r, out));
    if (!out->ptr && !nullable)
        return ERR_DECODE;
    return 0;
}

static int kmsg_read_bytes(struct kwire_reader *r, bool flex, bool nullable, struct bytes *out)
{
    KMSG_TRY(flex ? kwire_read_compact_bytes(r, out) : kwire_read_bytes(r, out));
    if (!out->ptr && !nullable)
        return ERR_DECODE;
    return 0;
}

static int kmsg_read_count(struct kwire_reader *r, bool flex, bool nullable, int32_t *count)
{
    KMSG_TRY(flex ? kwire_read_compact_array_len(r, count) : kwire_read_array_len(r, count));
    if (*count < 0 && !nullable)
        return ERR_DECODE;
    return 0;
}

static int kmsg_write_str(struct buf *b, bool flex, bool nullable, struct bytes s)
{
    if (!s.ptr && !nullable)
        s = bytes_make("", 0);
    return flex ? kwire_write_compact_string(b, s) : kwire_write_string(b, s);
}

static int kmsg_write_bytes(struct buf *b, bool flex, bool nullable, struct bytes s)
{
    if (!s.ptr && !nullable)
        s = bytes_make("", 0);
    return flex ? kwire_write_compact_bytes(b, s) : kwire_write_bytes(b, s);
}

static int kmsg_write_count(struct buf *b, bool flex, bool nullable, int32_t count)
{
    if (count < 0 && !nullable)
        count = 0;
    return flex ? kwire_write_compact_array_len(b, count) : kwire_write_array_len(b, count);
}

static inline bool kmsg_uuid_is_zero(const uint8_t u[16])
{
    static const uint8_t zero[16];
    return memcmp(u, zero, 16) == 0;
}

'''


def gen_common_c(apis, hdr, src):
    src.append('const struct kmsg_api_info kmsg_api_table[] = {')
    for api in apis:
        fl = 'INT16_MAX' if api.flex > api.vmax else str(api.flex)
        src.append('    { %d, "%s", %d, %d, %s },' % (api.key, api.name, api.vmin, api.vmax, fl))
    src.append('};')
    src.append('const int kmsg_api_table_count = %d;' % len(apis))
    src.append('')
    src.append('''const struct kmsg_api_info *kmsg_api_find(int16_t api_key)
{
    for (int i = 0; i < kmsg_api_table_count; i++) {
        if (kmsg_api_table[i].api_key == api_key)
            return &kmsg_api_table[i];
    }
    return NULL;
}

bool kmsg_api_is_flexible(int16_t api_key, int16_t version)
{
    const struct kmsg_api_info *info = kmsg_api_find(api_key);
    return info && version >= info->flexible_min_version;
}

int kmsg_req_header_decode(struct kwire_reader *r, struct kmsg_req_header *out)
{
    memset(out, 0, sizeof(*out));
    KMSG_TRY(kwire_read_i16(r, &out->api_key));
    KMSG_TRY(kwire_read_i16(r, &out->api_version));
    KMSG_TRY(kwire_read_i32(r, &out->correlation_id));
    const struct kmsg_api_info *info = kmsg_api_find(out->api_key);
    if (!info || out->api_version < info->min_version || out->api_version > info->max_version)
        return ERR_UNSUPPORTED;
    /* client_id is a classic nullable string even in header v2. */
    KMSG_TRY(kwire_read_string(r, &out->client_id));
    if (out->api_version >= info->flexible_min_version)
        KMSG_TRY(kwire_skip_tags(r));
    return 0;
}

int kmsg_resp_header_encode(struct buf *b, int16_t api_key, int16_t api_version,
                            int32_t correlation_id)
{
    KMSG_TRY(kwire_write_i32(b, correlation_id));
    if (api_key != KMSG_API_API_VERSIONS && kmsg_api_is_flexible(api_key, api_version))
        KMSG_TRY(kwire_write_empty_tags(b));
    return 0;
}
''')


# ------------------------------------------------------------ selftest helpers

def gen_selftest(apis):
    out = ['/* kmsg_selftest.inc - GENERATED by proto/kgen.py: test-only helpers that fill',
           ' * every field present in a version with a non-default value and compare',
           ' * whole structs.  #included by broker/kmsg_test.c; never part of the library. */',
           '#include <stdio.h>', '']
    for api in apis:
        for s in api.structs:
            out.append('static void st_fill_%s(struct %s *m, int16_t version, struct arena *a, int seed);'
                       % (s.cname, s.cname))
            out.append('static bool st_eq_%s(const struct %s *x, const struct %s *y);'
                       % (s.cname, s.cname, s.cname))
    out.append('')
    out.append('''static bool st_bytes_same(struct bytes x, struct bytes y)
{
    return (x.ptr == NULL) == (y.ptr == NULL) && bytes_eq(x, y);
}
''')
    for api in apis:
        for s in api.structs:
            cn = s.cname
            out.append('static void st_fill_%s(struct %s *m, int16_t version, struct arena *a, int seed)'
                       % (cn, cn))
            out.append('{')
            out.append('    (void)version; (void)a; (void)seed; (void)m;')
            for idx, f in enumerate(s.fields):
                lines = st_fill_field(f, idx)
                c = cond(api, f.versions)
                if c is None:
                    out += ['    ' + x for x in lines]
                else:
                    out.append('    if (%s) {' % c)
                    out += ['        ' + x for x in lines]
                    out.append('    }')
            out.append('}')
            out.append('')
            out.append('static bool st_eq_%s(const struct %s *x, const struct %s *y)' % (cn, cn, cn))
            out.append('{')
            out.append('    (void)x; (void)y;')
            for f in s.fields:
                e = st_eq_field(f)
                out.append('    if (!(%s)) {' % e)
                out.append('        fprintf(stderr, "mismatch %s.%s\\n");' % (cn, f.name))
                out.append('        return false;')
                out.append('    }')
            out.append('    return true;')
            out.append('}')
            out.append('')
    # Per top-level struct: type-erased wrappers + case table.
    cases = []
    for api in apis:
        for cn, top in api.tops():
            out.append('static void st_init_%s(void *m) { %s_init(m); }' % (cn, cn))
            out.append('static void st_fillv_%s(void *m, int16_t v, struct arena *a, int seed) '
                       '{ st_fill_%s(m, v, a, seed); }' % (cn, cn))
            out.append('static bool st_eqv_%s(const void *x, const void *y) { return st_eq_%s(x, y); }'
                       % (cn, cn))
            out.append('static int st_enc_%s(struct buf *b, int16_t v, const void *m) '
                       '{ return %s_encode(b, v, m); }' % (cn, cn))
            out.append('static int st_dec_%s(struct kwire_reader *r, int16_t v, struct arena *a, void *m) '
                       '{ return %s_decode(r, v, a, m); }' % (cn, cn))
            cases.append('    { %d, "%s", %s, %d, %d, sizeof(struct %s), st_init_%s, st_fillv_%s, st_eqv_%s, '
                         'st_enc_%s, st_dec_%s },' % (api.key, cn, 'true' if top is api.resp else 'false',
                                                      api.vmin, api.vmax, cn, cn, cn, cn, cn, cn))
    out.append('')
    out.append('''struct st_case {
    int16_t api_key;
    const char *name;
    bool is_resp;
    int16_t min_version;
    int16_t max_version;
    size_t size;
    void (*init)(void *m);
    void (*fill)(void *m, int16_t version, struct arena *a, int seed);
    bool (*eq)(const void *x, const void *y);
    int (*enc)(struct buf *b, int16_t version, const void *m);
    int (*dec)(struct kwire_reader *r, int16_t version, struct arena *a, void *m);
};
''')
    out.append('static const struct st_case st_cases[] = {')
    out += cases
    out.append('};')
    out.append('#define ST_CASE_COUNT ((int)(sizeof(st_cases) / sizeof(st_cases[0])))')
    out.append('')
    return '\n'.join(out)


def st_prim_value(t, idx, lhs, default):
    if t in INT_TYPES:
        ct = INT_TYPES[t][0]
        d = int(default, 0) if default is not None else 0
        return ['%s = (%s)(seed * 7 + %d);' % (lhs, ct, idx + 3),
                'if (%s == (%s)%s)' % (lhs, ct, c_int_literal(ct, d)),
                '    %s = (%s)(%s + 1);' % (lhs, ct, lhs)]
    if t == 'bool':
        return ['%s = %s;' % (lhs, 'false' if default == 'true' else 'true')]
    if t == 'float64':
        return ['%s = seed + %d.25;' % (lhs, idx + 1)]
    if t == 'uuid':
        return ['for (int k = 0; k < 16; k++)', '    %s[k] = (uint8_t)(seed + k + %d);' % (lhs, idx + 1)]
    return None


def st_fill_field(f, idx):
    lhs = 'm->%s' % f.name
    if f.kind == 'prim':
        if f.type in ('string', 'bytes', 'records'):
            txt = '%s-%d' % (f.name, idx)
            return ['%s = bytes_make("%s", %d);' % (lhs, txt, len(txt))]
        return st_prim_value(f.type, idx, lhs, f.default)
    if f.kind == 'struct':
        fill = ['st_fill_%s(&%s, version, a, seed + %d);' % (f.struct.cname, lhs, idx)]
        if f.nullable is not None:
            fill.append('%s_is_null = false;' % lhs)
        return fill
    n = 2 if f.struct is not None else 3
    if f.struct is not None:
        et = 'struct %s' % f.struct.cname
    elif f.type == 'string':
        et = 'struct bytes'
    else:
        et = INT_TYPES[f.type][0]
    lines = ['%s_count = %d;' % (lhs, n),
             '%s = arena_alloc_array(a, %d, sizeof(%s));' % (lhs, n, et),
             'ASSERT(%s);' % lhs,
             'for (int i = 0; i < %d; i++) {' % n]
    if f.struct is not None:
        lines.append('    %s_init(&%s[i]);' % (f.struct.cname, lhs))
        lines.append('    st_fill_%s(&%s[i], version, a, seed + i + %d);' % (f.struct.cname, lhs, idx))
    elif f.type == 'string':
        lines.append('    %s[i] = bytes_make("elem" + i, (size_t)(4 - i));' % lhs)
    else:
        ct = INT_TYPES[f.type][0]
        lines.append('    %s[i] = (%s)(seed * 5 + i + %d);' % (lhs, ct, idx))
    lines.append('}')
    return lines


def st_eq_field(f):
    x, y = 'x->%s' % f.name, 'y->%s' % f.name
    if f.kind == 'prim':
        if f.type in ('string', 'bytes', 'records'):
            return 'st_bytes_same(%s, %s)' % (x, y)
        if f.type == 'uuid':
            return 'memcmp(%s, %s, 16) == 0' % (x, y)
        return '%s == %s' % (x, y)
    if f.kind == 'struct':
        if f.nullable is not None:
            return '%s_is_null == %s_is_null && (%s_is_null || st_eq_%s(&%s, &%s))' % (
                x, y, x, f.struct.cname, x, y)
        return 'st_eq_%s(&%s, &%s)' % (f.struct.cname, x, y)
    if f.struct is not None:
        el = 'st_eq_%s(&%s[i], &%s[i])' % (f.struct.cname, x, y)
    elif f.type == 'string':
        el = 'st_bytes_same(%s[i], %s[i])' % (x, y)
    else:
        el = '%s[i] == %s[i]' % (x, y)
    return ('%s_count == %s_count && ({ bool ok_ = true; for (int32_t i = 0; i < %s_count && ok_; i++) '
            'ok_ = %s; ok_; })' % (x, y, x, el))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('files', nargs='+')
    args = ap.parse_args()
    try:
        apis = [parse_api(p) for p in args.files]
    except SpecError as e:
        print('kgen: %s' % e, file=sys.stderr)
        return 1
    datas = sorted([a for a in apis if a.kind == 'data'], key=lambda a: a.name)
    apis = sorted([a for a in apis if a.kind == 'api'], key=lambda a: a.key)
    names = {}
    for a in apis + datas:
        if a.snake in names:
            print('kgen: %s described twice (%s, %s)' % (a.name, names[a.snake], a.path), file=sys.stderr)
            return 1
        names[a.snake] = a.path
        if a.vmax > 32767:
            print('kgen: %s: version too large' % a.path, file=sys.stderr)
            return 1
    seen = {}
    for a in apis:
        if a.key in seen:
            print('kgen: API key %d described twice (%s, %s)' % (a.key, seen[a.key], a.path), file=sys.stderr)
            return 1
        seen[a.key] = a.path
    hdr = [HDR_PROLOGUE]
    for a in apis:
        hdr.append('#define KMSG_API_%s %d' % (a.snake.upper(), a.key))
    hdr.append('')
    src = [SRC_PROLOGUE]
    gen_common_c(apis, hdr, src)
    for a in apis + datas:
        fl = 'never' if a.flex > a.vmax else 'v%d+' % a.flex
        what = 'key %d' % a.key if a.kind == 'api' else 'data schema'
        hdr.append('/* ======== %s (%s): versions %d-%d, flexible %s ======== */'
                   % (a.name, what, a.vmin, a.vmax, fl))
        hdr.append('')
        for s in a.structs:
            gen_struct_c(a, s, hdr, src)
        for cn, _ in a.tops():
            gen_top_c(a, cn, hdr, src)
    hdr.append('#endif')
    os.makedirs(args.out, exist_ok=True)
    outputs = {
        'kmsg.h': '\n'.join(hdr) + '\n',
        'kmsg.c': '\n'.join(src) + '\n',
        'kmsg_selftest.inc': gen_selftest(apis + datas) + '\n',
    }
    for name, text in outputs.items():
        path = os.path.join(args.out, name)
        tmp = path + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
