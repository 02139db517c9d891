/* PLACEHOLDER: being written. */
#include "kube.h"

const struct gm_spawner spawn_kubernetes = {
    .abi = GM_ABI_VERSION,
    .name = "kubernetes",
};
