/* PLACEHOLDER: being written. */
#include "kube.h"
