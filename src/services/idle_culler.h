/* `ganymede idle-culler`: jupyterhub-idle-culler's behaviour and flags, for a hub image without
 * Python (zero-to-jupyterhub's cull.* runs it as a managed service). */
#pragma once

/** Run the culler until SIGTERM: argv[0] is "idle-culler". Returns the exit code. */
int idle_culler_main(int argc, char **argv);
