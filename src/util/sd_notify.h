/* systemd's readiness protocol (sd_notify(3)) without libsystemd: a datagram with the state to
 * the socket in $NOTIFY_SOCKET, so that a unit of Type=notify (the Debian package's) counts as
 * started once the hub answers, and `systemctl start` waits for that. */
#pragma once

/** Send @state ("READY=1", "STOPPING=1") to the service manager. Without $NOTIFY_SOCKET (not
 * run by systemd) nothing happens. Returns 0 or a negative errno; never blocks. */
int sd_notify_send(const char *state);
