/* DockerSpawner's extra_create_kwargs and extra_host_config are keyword arguments of docker-py's
 * create_container and create_host_config ({"mem_limit": "2g", "device_requests": [...]}, as
 * existing configurations have them). The Engine API wants its own names ("Memory",
 * "DeviceRequests") and shapes, which docker-py builds. This file does the same translation
 * from a table, so those configurations work unchanged; names that start with a capital letter
 * are taken as Engine API fields and passed through, and a lower-case name the table does not
 * know is an error that names it (a typo would otherwise be dropped silently). */
#include "docker.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
    K_SAME,     /* the value as it is */
    K_STRING,   /* a string; numbers become strings (user: 1000) */
    K_BYTES,    /* 1024, "512m", "2g" → bytes */
    K_ARGV,     /* a list, or a string split as a shell would */
    K_SET,      /* a list → {item: {}} (volumes) */
    K_PAIRS,    /* {a: b} → ["a:b"] (links, extra_hosts); a list passes */
    K_LABELS,   /* a dict, or a list of names → {name: ""} */
    K_PORTS,    /* ports: [8888, "8888/udp", [8888, "tcp"]] → {"8888/tcp": {}} */
    K_BINDINGS, /* port_bindings: {8888: ("127.0.0.1", 0)} → {"8888/tcp": [{HostIp, HostPort}]} */
    K_BINDS,    /* binds: a list, or {host: {bind, mode}} → ["host:bind:mode"] */
    K_DEVICES,  /* devices: ["/dev/x:/dev/y:rwm"] → [{PathOnHost, PathInContainer, ...}] */
    K_TMPFS,    /* tmpfs: ["/run:size=64m"] → {"/run": "size=64m"}; a dict passes */
    K_ITEMS,    /* a list of dicts, each translated with .sub */
    K_OBJECT,   /* a dict translated with .sub */
    K_HOSTCONFIG, /* create_container's host_config */
    K_HEALTHTEST  /* a string → ["CMD-SHELL", string]; a list passes */
};

struct kw {
    const char *py;
    const char *api;
    enum kind kind;
    const struct kw *sub;
    const char *nested; /* Mount options: the field goes into this sub-object */
};

static const struct kw device_request_kw[] = {
    {"driver", "Driver", K_SAME, NULL, NULL},
    {"count", "Count", K_SAME, NULL, NULL},
    {"device_ids", "DeviceIDs", K_SAME, NULL, NULL},
    {"capabilities", "Capabilities", K_SAME, NULL, NULL},
    {"options", "Options", K_SAME, NULL, NULL},
    {NULL, NULL, K_SAME, NULL, NULL},
};

static const struct kw ulimit_kw[] = {
    {"name", "Name", K_SAME, NULL, NULL},
    {"soft", "Soft", K_SAME, NULL, NULL},
    {"hard", "Hard", K_SAME, NULL, NULL},
    {NULL, NULL, K_SAME, NULL, NULL},
};

static const struct kw log_config_kw[] = {
    {"type", "Type", K_SAME, NULL, NULL},
    {"config", "Config", K_SAME, NULL, NULL},
    {NULL, NULL, K_SAME, NULL, NULL},
};

static const struct kw restart_policy_kw[] = {
    {"name", "Name", K_SAME, NULL, NULL},
    {"maximum_retry_count", "MaximumRetryCount", K_SAME, NULL, NULL},
    {NULL, NULL, K_SAME, NULL, NULL},
};

static const struct kw healthcheck_kw[] = {
    {"test", "Test", K_HEALTHTEST, NULL, NULL},
    {"interval", "Interval", K_SAME, NULL, NULL},
    {"timeout", "Timeout", K_SAME, NULL, NULL},
    {"retries", "Retries", K_SAME, NULL, NULL},
    {"start_period", "StartPeriod", K_SAME, NULL, NULL},
    {NULL, NULL, K_SAME, NULL, NULL},
};

/* docker.types.Mount(target, source, type, read_only, consistency, propagation, no_copy,
 * labels, driver_config, tmpfs_size, tmpfs_mode). */
static const struct kw mount_kw[] = {
    {"target", "Target", K_SAME, NULL, NULL},
    {"source", "Source", K_SAME, NULL, NULL},
    {"type", "Type", K_SAME, NULL, NULL},
    {"read_only", "ReadOnly", K_SAME, NULL, NULL},
    {"consistency", "Consistency", K_SAME, NULL, NULL},
    {"propagation", "Propagation", K_SAME, NULL, "BindOptions"},
    {"no_copy", "NoCopy", K_SAME, NULL, "VolumeOptions"},
    {"labels", "Labels", K_SAME, NULL, "VolumeOptions"},
    {"driver_config", "DriverConfig", K_SAME, NULL, "VolumeOptions"},
    {"tmpfs_size", "SizeBytes", K_BYTES, NULL, "TmpfsOptions"},
    {"tmpfs_mode", "Mode", K_SAME, NULL, "TmpfsOptions"},
    {NULL, NULL, K_SAME, NULL, NULL},
};

/* docker.types.HostConfig's arguments (docker-py 7). */
static const struct kw host_config_kw[] = {
    {"auto_remove", "AutoRemove", K_SAME, NULL, NULL},
    {"binds", "Binds", K_BINDS, NULL, NULL},
    {"blkio_weight", "BlkioWeight", K_SAME, NULL, NULL},
    {"blkio_weight_device", "BlkioWeightDevice", K_SAME, NULL, NULL},
    {"cap_add", "CapAdd", K_SAME, NULL, NULL},
    {"cap_drop", "CapDrop", K_SAME, NULL, NULL},
    {"cgroup_parent", "CgroupParent", K_SAME, NULL, NULL},
    {"cgroupns", "CgroupnsMode", K_SAME, NULL, NULL},
    {"cpu_count", "CpuCount", K_SAME, NULL, NULL},
    {"cpu_percent", "CpuPercent", K_SAME, NULL, NULL},
    {"cpu_period", "CpuPeriod", K_SAME, NULL, NULL},
    {"cpu_quota", "CpuQuota", K_SAME, NULL, NULL},
    {"cpu_rt_period", "CpuRealtimePeriod", K_SAME, NULL, NULL},
    {"cpu_rt_runtime", "CpuRealtimeRuntime", K_SAME, NULL, NULL},
    {"cpu_shares", "CpuShares", K_SAME, NULL, NULL},
    {"cpuset_cpus", "CpusetCpus", K_SAME, NULL, NULL},
    {"cpuset_mems", "CpusetMems", K_SAME, NULL, NULL},
    {"device_cgroup_rules", "DeviceCgroupRules", K_SAME, NULL, NULL},
    {"device_read_bps", "BlkioDeviceReadBps", K_SAME, NULL, NULL},
    {"device_read_iops", "BlkioDeviceReadIOps", K_SAME, NULL, NULL},
    {"device_requests", "DeviceRequests", K_ITEMS, device_request_kw, NULL},
    {"device_write_bps", "BlkioDeviceWriteBps", K_SAME, NULL, NULL},
    {"device_write_iops", "BlkioDeviceWriteIOps", K_SAME, NULL, NULL},
    {"devices", "Devices", K_DEVICES, NULL, NULL},
    {"dns", "Dns", K_SAME, NULL, NULL},
    {"dns_opt", "DnsOptions", K_SAME, NULL, NULL},
    {"dns_search", "DnsSearch", K_SAME, NULL, NULL},
    {"extra_hosts", "ExtraHosts", K_PAIRS, NULL, NULL},
    {"group_add", "GroupAdd", K_SAME, NULL, NULL},
    {"init", "Init", K_SAME, NULL, NULL},
    {"ipc_mode", "IpcMode", K_SAME, NULL, NULL},
    {"isolation", "Isolation", K_SAME, NULL, NULL},
    {"kernel_memory", "KernelMemory", K_BYTES, NULL, NULL},
    {"links", "Links", K_PAIRS, NULL, NULL},
    {"log_config", "LogConfig", K_OBJECT, log_config_kw, NULL},
    {"mem_limit", "Memory", K_BYTES, NULL, NULL},
    {"mem_reservation", "MemoryReservation", K_BYTES, NULL, NULL},
    {"mem_swappiness", "MemorySwappiness", K_SAME, NULL, NULL},
    {"memswap_limit", "MemorySwap", K_BYTES, NULL, NULL},
    {"mounts", "Mounts", K_ITEMS, mount_kw, NULL},
    {"nano_cpus", "NanoCpus", K_SAME, NULL, NULL},
    {"network_mode", "NetworkMode", K_SAME, NULL, NULL},
    {"oom_kill_disable", "OomKillDisable", K_SAME, NULL, NULL},
    {"oom_score_adj", "OomScoreAdj", K_SAME, NULL, NULL},
    {"pid_mode", "PidMode", K_SAME, NULL, NULL},
    {"pids_limit", "PidsLimit", K_SAME, NULL, NULL},
    {"port_bindings", "PortBindings", K_BINDINGS, NULL, NULL},
    {"privileged", "Privileged", K_SAME, NULL, NULL},
    {"publish_all_ports", "PublishAllPorts", K_SAME, NULL, NULL},
    {"read_only", "ReadonlyRootfs", K_SAME, NULL, NULL},
    {"restart_policy", "RestartPolicy", K_OBJECT, restart_policy_kw, NULL},
    {"runtime", "Runtime", K_SAME, NULL, NULL},
    {"security_opt", "SecurityOpt", K_SAME, NULL, NULL},
    {"shm_size", "ShmSize", K_BYTES, NULL, NULL},
    {"storage_opt", "StorageOpt", K_SAME, NULL, NULL},
    {"sysctls", "Sysctls", K_SAME, NULL, NULL},
    {"tmpfs", "Tmpfs", K_TMPFS, NULL, NULL},
    {"ulimits", "Ulimits", K_ITEMS, ulimit_kw, NULL},
    {"userns_mode", "UsernsMode", K_SAME, NULL, NULL},
    {"uts_mode", "UTSMode", K_SAME, NULL, NULL},
    {"volume_driver", "VolumeDriver", K_SAME, NULL, NULL},
    {"volumes_from", "VolumesFrom", K_SAME, NULL, NULL},
    {NULL, NULL, K_SAME, NULL, NULL},
};

/* APIClient.create_container's arguments. name, image, command, environment and detach are
 * the spawner's own or meaningless here; environment is merged by name. */
static const struct kw create_kw[] = {
    {"command", "Cmd", K_ARGV, NULL, NULL},
    {"domainname", "Domainname", K_SAME, NULL, NULL},
    {"entrypoint", "Entrypoint", K_ARGV, NULL, NULL},
    {"environment", "Env", K_SAME, NULL, NULL},
    {"healthcheck", "Healthcheck", K_OBJECT, healthcheck_kw, NULL},
    {"host_config", "HostConfig", K_HOSTCONFIG, NULL, NULL},
    {"hostname", "Hostname", K_SAME, NULL, NULL},
    {"image", "Image", K_SAME, NULL, NULL},
    {"labels", "Labels", K_LABELS, NULL, NULL},
    {"mac_address", "MacAddress", K_SAME, NULL, NULL},
    {"network_disabled", "NetworkDisabled", K_SAME, NULL, NULL},
    {"networking_config", "NetworkingConfig", K_SAME, NULL, NULL},
    {"ports", "ExposedPorts", K_PORTS, NULL, NULL},
    {"stdin_open", "OpenStdin", K_SAME, NULL, NULL},
    {"stop_signal", "StopSignal", K_SAME, NULL, NULL},
    {"stop_timeout", "StopTimeout", K_SAME, NULL, NULL},
    {"tty", "Tty", K_SAME, NULL, NULL},
    {"user", "User", K_STRING, NULL, NULL},
    {"volumes", "Volumes", K_SET, NULL, NULL},
    {"working_dir", "WorkingDir", K_SAME, NULL, NULL},
    {NULL, NULL, K_SAME, NULL, NULL},
};

int64_t docker_parse_bytes(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
    if (json_is_real(v))
        return json_real_value(v) >= 0 ? (int64_t)json_real_value(v) : -1;
    const char *s = json_string_value(v);
    if (!s || !*s)
        return -1;
    char *end;
    double n = strtod(s, &end);
    if (end == s || n < 0 || !isfinite(n))
        return -1;
    double mult = 1;
    if (*end) {
        const char *units = "bkmgt";
        const char *u = strchr(units, tolower((unsigned char)*end));
        if (!u)
            return -1;
        mult = pow(1024, (double)(u - units));
        end++;
        /* "512mb" as well as "512m" */
        if (*end && u != units && tolower((unsigned char)*end) == 'b')
            end++;
        if (*end)
            return -1;
    }
    double bytes = n * mult;
    return bytes < 9.0e18 ? (int64_t)bytes : -1;
}

struct ctx {
    const char *where; /* "extra_host_config", for messages */
    char *err;
    size_t errlen;
};

static int fail(struct ctx *x, const char *key, const char *what)
{
    snprintf(x->err, x->errlen, "DockerSpawner.%s: '%s' %s", x->where, key, what);
    return -EINVAL;
}

static int translate(struct ctx *x, const json_t *in, const struct kw *table, json_t *out);

static int port_key(const json_t *v, char *key, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(key, len, "%lld/tcp", (long long)json_integer_value(v));
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 20)
        return -EINVAL;
    snprintf(key, len, "%s%s", s, strchr(s, '/') ? "" : "/tcp");
    return 0;
}

/* port_bindings values: None, a port, "ip:port"-less tuples (ip,), (ip, port), or a list of
 * them, as docker-py's convert_port_bindings. */
static json_t *binding_of(const json_t *v)
{
    char port[32] = "";
    if (json_is_null(v))
        return json_pack("{s:s,s:s}", "HostIp", "", "HostPort", "");
    if (json_is_integer(v) || json_is_string(v)) {
        if (json_is_integer(v))
            snprintf(port, sizeof(port), "%lld", (long long)json_integer_value(v));
        else
            snprintf(port, sizeof(port), "%s", json_string_value(v));
        return json_pack("{s:s,s:s}", "HostIp", "", "HostPort", port);
    }
    if (json_is_object(v))
        return json_deep_copy(v);
    if (json_is_array(v) && json_array_size(v) >= 1 && json_array_size(v) <= 2 &&
        json_is_string(json_array_get(v, 0))) {
        const json_t *p = json_array_get(v, 1);
        if (json_is_integer(p) && json_integer_value(p) > 0)
            snprintf(port, sizeof(port), "%lld", (long long)json_integer_value(p));
        else if (json_is_string(p))
            snprintf(port, sizeof(port), "%s", json_string_value(p));
        return json_pack("{s:s,s:s}", "HostIp", json_string_value(json_array_get(v, 0)), "HostPort",
                         port);
    }
    return NULL;
}

static int convert(struct ctx *x, const struct kw *k, const json_t *v, json_t **ret)
{
    switch (k->kind) {
    case K_SAME:
        *ret = json_deep_copy(v);
        return *ret ? 0 : -ENOMEM;
    case K_STRING:
        if (json_is_integer(v))
            *ret = json_sprintf("%lld", (long long)json_integer_value(v));
        else if (json_is_string(v))
            *ret = json_deep_copy(v);
        else
            return fail(x, k->py, "must be a string or a number");
        return *ret ? 0 : -ENOMEM;
    case K_BYTES: {
        int64_t n = docker_parse_bytes(v);
        if (n < 0)
            return fail(x, k->py, "must be a number of bytes or a size like \"512m\", \"2g\"");
        *ret = json_integer(n);
        return *ret ? 0 : -ENOMEM;
    }
    case K_ARGV:
        if (json_is_string(v)) {
            if (docker_split_command(json_string_value(v), ret) < 0)
                return fail(x, k->py, "has an unterminated quote");
            return 0;
        }
        if (!json_is_array(v))
            return fail(x, k->py, "must be a string or a list of strings");
        *ret = json_deep_copy(v);
        return *ret ? 0 : -ENOMEM;
    case K_SET: {
        if (json_is_object(v)) {
            *ret = json_deep_copy(v);
            return *ret ? 0 : -ENOMEM;
        }
        if (!json_is_array(v))
            return fail(x, k->py, "must be a list of paths");
        json_t *o = json_object();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e)) {
                json_decref(o);
                return fail(x, k->py, "must be a list of paths");
            }
            json_object_set_new(o, json_string_value(e), json_object());
        }
        *ret = o;
        return o ? 0 : -ENOMEM;
    }
    case K_PAIRS: {
        if (json_is_array(v)) {
            *ret = json_deep_copy(v);
            return *ret ? 0 : -ENOMEM;
        }
        if (!json_is_object(v))
            return fail(x, k->py, "must be a dict or a list of \"a:b\" strings");
        json_t *a = json_array();
        const char *key;
        json_t *e;
        json_object_foreach((json_t *)v, key, e)
        {
            if (!json_is_string(e)) {
                json_decref(a);
                return fail(x, k->py, "must map names to strings");
            }
            json_array_append_new(a, json_sprintf("%s:%s", key, json_string_value(e)));
        }
        *ret = a;
        return a ? 0 : -ENOMEM;
    }
    case K_LABELS: {
        if (json_is_object(v)) {
            *ret = json_deep_copy(v);
            return *ret ? 0 : -ENOMEM;
        }
        if (!json_is_array(v))
            return fail(x, k->py, "must be a dict or a list of names");
        json_t *o = json_object();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e))
                json_object_set_new(o, json_string_value(e), json_string(""));
        }
        *ret = o;
        return o ? 0 : -ENOMEM;
    }
    case K_PORTS: {
        if (!json_is_array(v))
            return fail(x, k->py, "must be a list of ports");
        json_t *o = json_object();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            char key[40];
            int r;
            if (json_is_array(e) && json_array_size(e) == 2 &&
                json_is_integer(json_array_get(e, 0)) && json_is_string(json_array_get(e, 1))) {
                snprintf(key, sizeof(key), "%lld/%.8s",
                         (long long)json_integer_value(json_array_get(e, 0)),
                         json_string_value(json_array_get(e, 1)));
                r = 0;
            } else {
                r = port_key(e, key, sizeof(key));
            }
            if (r < 0) {
                json_decref(o);
                return fail(x, k->py, "must list ports as 8888, \"8888/udp\" or [8888, \"tcp\"]");
            }
            json_object_set_new(o, key, json_object());
        }
        *ret = o;
        return o ? 0 : -ENOMEM;
    }
    case K_BINDINGS: {
        if (!json_is_object(v))
            return fail(x, k->py, "must be a dict of container port to host binding");
        json_t *o = json_object();
        const char *key;
        json_t *e;
        json_object_foreach((json_t *)v, key, e)
        {
            char pk[40];
            json_t *list = json_array();
            json_t *kv = json_string(key);
            int r = port_key(kv, pk, sizeof(pk));
            json_decref(kv);
            bool many =
                json_is_array(e) && json_array_size(e) > 0 && !json_is_string(json_array_get(e, 0));
            for (size_t i = 0; r == 0 && i < (many ? json_array_size(e) : 1); i++) {
                json_t *b = binding_of(many ? json_array_get(e, i) : e);
                if (!b)
                    r = -EINVAL;
                else
                    json_array_append_new(list, b);
            }
            if (r < 0) {
                json_decref(list);
                json_decref(o);
                return fail(x, k->py,
                            "must map ports to None, a host port, (ip,), (ip, port) or a list");
            }
            json_object_set_new(o, pk, list);
        }
        *ret = o;
        return o ? 0 : -ENOMEM;
    }
    case K_BINDS: {
        if (json_is_array(v)) {
            *ret = json_deep_copy(v);
            return *ret ? 0 : -ENOMEM;
        }
        if (!json_is_object(v))
            return fail(x, k->py, "must be a list of \"host:bind:mode\" or a dict");
        json_t *a = json_array();
        const char *key;
        json_t *e;
        json_object_foreach((json_t *)v, key, e)
        {
            const char *bind = json_is_string(e) ? json_string_value(e)
                                                 : json_string_value(json_object_get(e, "bind"));
            const char *mode = json_string_value(json_object_get(e, "mode"));
            if (!bind) {
                json_decref(a);
                return fail(x, k->py, "must map host paths to a path or {\"bind\", \"mode\"}");
            }
            json_array_append_new(a, json_sprintf("%s:%s:%s", key, bind, mode ? mode : "rw"));
        }
        *ret = a;
        return a ? 0 : -ENOMEM;
    }
    case K_DEVICES: {
        if (!json_is_array(v))
            return fail(x, k->py, "must be a list");
        json_t *a = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (json_is_object(e)) {
                json_array_append(a, e);
                continue;
            }
            const char *s = json_string_value(e);
            if (!s || !*s) {
                json_decref(a);
                return fail(x, k->py, "must list \"/dev/host[:/dev/container[:rwm]]\" strings");
            }
            char host[256] = "", cont[256] = "", perms[8] = "rwm";
            const char *c1 = strchr(s, ':');
            const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            snprintf(host, sizeof(host), "%.*s", (int)(c1 ? (size_t)(c1 - s) : strlen(s)), s);
            if (c1)
                snprintf(cont, sizeof(cont), "%.*s",
                         (int)(c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)), c1 + 1);
            else
                snprintf(cont, sizeof(cont), "%s", host);
            if (c2)
                snprintf(perms, sizeof(perms), "%s", c2 + 1);
            json_array_append_new(a,
                                  json_pack("{s:s,s:s,s:s}", "PathOnHost", host, "PathInContainer",
                                            cont, "CgroupPermissions", perms));
        }
        *ret = a;
        return a ? 0 : -ENOMEM;
    }
    case K_TMPFS: {
        if (json_is_object(v)) {
            *ret = json_deep_copy(v);
            return *ret ? 0 : -ENOMEM;
        }
        if (!json_is_array(v))
            return fail(x, k->py, "must be a dict or a list of \"/path[:options]\"");
        json_t *o = json_object();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            const char *s = json_string_value(e);
            if (!s)
                continue;
            const char *c = strchr(s, ':');
            char path[512];
            snprintf(path, sizeof(path), "%.*s", (int)(c ? (size_t)(c - s) : strlen(s)), s);
            json_object_set_new(o, path, json_string(c ? c + 1 : ""));
        }
        *ret = o;
        return o ? 0 : -ENOMEM;
    }
    case K_ITEMS: {
        if (!json_is_array(v))
            return fail(x, k->py, "must be a list of dicts");
        json_t *a = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            json_t *item = json_object();
            int r = json_is_object(e) ? translate(x, e, k->sub, item)
                                      : fail(x, k->py, "must be a list of dicts");
            if (r < 0) {
                json_decref(item);
                json_decref(a);
                return r;
            }
            /* docker.types.Mount's default type. */
            if (k->sub == mount_kw && !json_object_get(item, "Type"))
                json_object_set_new(item, "Type", json_string("volume"));
            json_array_append_new(a, item);
        }
        *ret = a;
        return a ? 0 : -ENOMEM;
    }
    case K_OBJECT: {
        if (!json_is_object(v))
            return fail(x, k->py, "must be a dict");
        json_t *o = json_object();
        int r = translate(x, v, k->sub, o);
        if (r < 0) {
            json_decref(o);
            return r;
        }
        *ret = o;
        return 0;
    }
    case K_HEALTHTEST:
        if (json_is_string(v))
            *ret = json_pack("[s,O]", "CMD-SHELL", v);
        else if (json_is_array(v))
            *ret = json_deep_copy(v);
        else
            return fail(x, k->py, "must be a shell command or a list");
        return *ret ? 0 : -ENOMEM;
    case K_HOSTCONFIG: {
        if (!json_is_object(v))
            return fail(x, k->py, "must be a dict");
        json_t *o = json_object();
        int r = translate(x, v, host_config_kw, o);
        if (r < 0) {
            json_decref(o);
            return r;
        }
        *ret = o;
        return 0;
    }
    }
    return -EINVAL;
}

static int translate(struct ctx *x, const json_t *in, const struct kw *table, json_t *out)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)in, key, v)
    {
        if (key[0] >= 'A' && key[0] <= 'Z') {
            /* Already the Engine's name. */
            if (json_object_set_new(out, key, json_deep_copy(v)) < 0)
                return -ENOMEM;
            continue;
        }
        const struct kw *k = table;
        while (k->py && strcmp(k->py, key) != 0)
            k++;
        if (!k->py) {
            if (table == create_kw && (strcmp(key, "name") == 0 || strcmp(key, "detach") == 0))
                return fail(x, key, "is set by the spawner (use DockerSpawner.name_template)");
            return fail(x, key,
                        "is neither a docker-py argument nor a Docker Engine API field "
                        "(those start with a capital letter, e.g. \"Memory\")");
        }
        json_t *val = NULL;
        int r = convert(x, k, v, &val);
        if (r < 0)
            return r;
        json_t *dst = out;
        if (k->nested) {
            dst = json_object_get(out, k->nested);
            if (!dst) {
                dst = json_object();
                json_object_set_new(out, k->nested, dst);
            }
        }
        if (!dst || json_object_set_new(dst, k->api, val) < 0)
            return -ENOMEM;
    }
    return 0;
}

int docker_kwargs_host_config(const json_t *in, json_t **ret, char *err, size_t errlen)
{
    struct ctx x = {.where = "extra_host_config", .err = err, .errlen = errlen};
    if (!json_is_object(in))
        return fail(&x, "value", "must be a dict");
    json_t *out = json_object();
    int r = out ? translate(&x, in, host_config_kw, out) : -ENOMEM;
    if (r < 0) {
        json_decref(out);
        return r;
    }
    *ret = out;
    return 0;
}

int docker_kwargs_create(const json_t *in, json_t **ret, char *err, size_t errlen)
{
    struct ctx x = {.where = "extra_create_kwargs", .err = err, .errlen = errlen};
    if (!json_is_object(in))
        return fail(&x, "value", "must be a dict");
    json_t *out = json_object();
    int r = out ? translate(&x, in, create_kw, out) : -ENOMEM;
    if (r < 0) {
        json_decref(out);
        return r;
    }
    *ret = out;
    return 0;
}

int docker_kwargs_mounts(const json_t *in, json_t **ret, char *err, size_t errlen)
{
    struct ctx x = {.where = "mounts", .err = err, .errlen = errlen};
    const struct kw *k = host_config_kw;
    while (strcmp(k->py, "mounts") != 0)
        k++;
    return convert(&x, k, in, ret);
}
