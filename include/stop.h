/* stop.h: the stop chain's timeouts, one owner: kvmload's ACPI power-down, kvmload-hotplug's SIGKILL, systemd's TimeoutStopSec. */
#ifndef KVMLOAD_STOP_H
#define KVMLOAD_STOP_H

/*
 * Stopping a supervised guest, from the outside in:
 *   systemd gives kvmload@.service's ExecStop (kvmload-hotplug remove)
 *     STOP_UNIT_S, its TimeoutStopSec=;
 *   kvmload-hotplug sends kvmload SIGTERM, SIGKILL STOP_LOADER_S later (its
 *     --stop-timeout when that is longer), and waits STOP_KILLED_S more; then
 *     the view's daemon gets SIGTERM and --stop-timeout (STOP_VIEW_S by
 *     default) to go;
 *   kvmload, on SIGTERM, presses the guest's ACPI power button and kills
 *     QEMU STOP_POWERDOWN_S later.
 * Each wait fits inside the one around it (the asserts below).  The numbers
 * are read from this file's "#define NAME VALUE" lines by meson.build, which
 * writes them into the unit file (udev/kvmload@.service.in).
 */
#define STOP_POWERDOWN_S 30
#define STOP_LOADER_S 40
#define STOP_KILLED_S 5
#define STOP_VIEW_S 10
#define STOP_UNIT_S 90

_Static_assert(STOP_POWERDOWN_S < STOP_LOADER_S,
	       "kvmload kills QEMU and exits before kvmload-hotplug's SIGKILL");
_Static_assert(STOP_LOADER_S + STOP_KILLED_S + STOP_VIEW_S < STOP_UNIT_S,
	       "kvmload-hotplug remove ends before systemd's TimeoutStopSec");

#endif
