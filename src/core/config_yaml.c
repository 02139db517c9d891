/* YAML to JSON through libyaml's document API, with PyYAML's scalar resolution and bounds on
 * nesting (alias loops included) and size. */
#include "core/config_yaml.h"
#include "util/str.h"

#include <ganymede/yaml.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64

struct conv {
    yaml_document_t *doc;
    const char *filename;
    char *err;
    size_t errlen;
    int nodes; /* visited nodes, capped against alias bombs */
};

static bool match(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

static json_t *scalar(const yaml_node_t *node)
{
    const char *s = (const char *)node->data.scalar.value;
    size_t len = node->data.scalar.length;
    /* libyaml's document API tags every untagged scalar as a string, so only the style tells
     * a plain scalar (resolved like PyYAML) from a quoted one (always a string). */
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(s, len);
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes",
                                        "YES",  "on",   "On",   "ON",  NULL};
    static const char *const falses[] = {"false", "False", "FALSE", "no",  "No",
                                         "NO",    "off",   "Off",   "OFF", NULL};
    if (match(s, nulls))
        return json_null();
    if (match(s, trues))
        return json_true();
    if (match(s, falses))
        return json_false();
    int64_t i;
    double d;
    if (str_to_int64(s, &i) == 0)
        return json_integer(i);
    if (strchr(s, '.') || strchr(s, 'e') || strchr(s, 'E')) {
        if (str_to_double(s, &d) == 0)
            return json_real(d);
    }
    return json_stringn(s, len);
}

static int convert(struct conv *c, yaml_node_t *node, int depth, json_t **ret, json_t **origin)
{
    if (!node || depth > YAML_MAX_DEPTH || ++c->nodes > 1000000) {
        snprintf(c->err, c->errlen, "%s: the document is nested too deeply or too large",
                 c->filename);
        return -EINVAL;
    }
    char where[512];
    snprintf(where, sizeof(where), "%s:%lu", c->filename, (unsigned long)node->start_mark.line + 1);
    switch (node->type) {
    case YAML_SCALAR_NODE:
        *ret = scalar(node);
        if (!*ret) {
            snprintf(c->err, c->errlen, "%s: a value is not valid UTF-8", where);
            return -EINVAL;
        }
        *origin = json_string(where);
        return 0;
    case YAML_SEQUENCE_NODE: {
        json_t *arr = json_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++) {
            json_t *v = NULL, *o = NULL;
            if (convert(c, yaml_document_get_node(c->doc, *it), depth + 1, &v, &o) < 0) {
                json_decref(arr);
                return -EINVAL;
            }
            json_decref(o);
            json_array_append_new(arr, v);
        }
        *ret = arr;
        *origin = json_string(where);
        return 0;
    }
    case YAML_MAPPING_NODE: {
        json_t *obj = json_object(), *orig = json_object();
        json_object_set_new(orig, "", json_string(where));
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                snprintf(c->err, c->errlen, "%s: mapping keys must be plain strings", where);
                json_decref(obj);
                json_decref(orig);
                return -EINVAL;
            }
            char *key = str_ndup((const char *)k->data.scalar.value, k->data.scalar.length);
            json_t *v = NULL, *o = NULL;
            if (!key ||
                convert(c, yaml_document_get_node(c->doc, p->value), depth + 1, &v, &o) < 0) {
                free(key);
                json_decref(obj);
                json_decref(orig);
                return -EINVAL;
            }
            json_object_set_new(obj, key, v);
            json_object_set_new(orig, key, o);
            free(key);
        }
        *ret = obj;
        *origin = orig;
        return 0;
    }
    default:
        snprintf(c->err, c->errlen, "%s: an empty node is not understood", where);
        return -EINVAL;
    }
}

int config_yaml_parse(const char *text, size_t len, const char *filename, json_t **ret,
                      json_t **origins, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", filename);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: %s%s%s", filename,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "not valid YAML", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -EINVAL;
    }
    int r = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    json_t *v = NULL, *o = NULL;
    if (!root) {
        v = json_object();
        o = json_object();
    } else {
        struct conv c = {.doc = &doc, .filename = filename, .err = err, .errlen = errlen};
        r = convert(&c, root, 0, &v, &o);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (r < 0)
        return r;
    *ret = v;
    *origins = o;
    return 0;
}

int gm_yaml_parse(const char *text, size_t len, const char *name, json_t **ret, char *err,
                  size_t errlen)
{
    json_t *v = NULL, *origins = NULL;
    int r = config_yaml_parse(text, len, name, &v, &origins, err, errlen);
    if (r < 0)
        return r;
    /* config_yaml_parse gives an empty document as {} without an origin; an empty mapping
     * written as "{}" has its "" origin. safe_load reads the former as None. */
    if (json_is_object(v) && json_object_size(v) == 0 && json_object_size(origins) == 0) {
        json_decref(v);
        v = json_null();
    }
    json_decref(origins);
    *ret = v;
    return 0;
}
