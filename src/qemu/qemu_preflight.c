/* qemu_preflight.c: what QEMU would refuse, said before anything runs: the --net tap, the vCPUs and the memory under the chosen accelerator, and, under a memory limit, QEMU itself asked once. */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "errmsg.h"
#include "log.h"
#include "monotime.h"
#include "procfile.h"
#include "qemu.h"
#include "spawn.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

/*
 * QEMU 7.2's pc machine, as measured here (doc/kvmload.8, -m): RAM beyond
 * max-ram-below-4g (3 GiB) starts at 4 GiB; the 64-bit PCI window
 * (i440fx pci-hole64-size, 2 GiB) follows it, rounded up to 1 GiB, and must
 * lie inside the vCPU's physical address width; on an AMD vCPU, RAM whose
 * window would reach AMD's HyperTransport hole (1012 GiB) is moved to 1 TiB
 * (enforce_amd_1tb_hole, pc-i440fx-7.1 on); -m is rounded up to 8 KiB, so a
 * memory backend of another size is refused.
 */
#define PC_LOWMEM      (3 * GiB)
#define PC_HIGHMEM     (4 * GiB)
#define PC_HOLE64      (2 * GiB)
#define PC_AMD_HT      (1012 * GiB)
#define PC_RAM_ALIGN   (8 * KiB)
#define TCG_PHYS_BITS  40 /* TCG's "max" vCPU; it is also an AMD one */
/* Linux's KVM_MEM_MAX_NR_PAGES: one memory slot (QEMU's RAM above 4 GiB is one) holds 2^31-1 pages. */
#define KVM_SLOT_MAX   (((1ULL << 31) - 1) * 4096)
/* QEMU's own fall-back when KVM says nothing (kvm_recommended_vcpus). */
#define KVM_VCPUS_DEFAULT 4

#define PROBE_MS   20000 /* started in -S and quit: ~60 ms (TCG), ~90 ms (KVM) at 256M here; slower as RAM grows */
#define PROBE_ERR  2048

/* A size the way -m takes it: the largest suffix that divides it. */
static const char *qemu_preflight_size(uint64_t v, char *buf, size_t len)
{
	static const struct { uint64_t unit; char c; } u[] = {
		{ TiB, 'T' }, { GiB, 'G' }, { MiB, 'M' }, { KiB, 'K' },
	};

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (v >= u[i].unit && v % u[i].unit == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(v / u[i].unit), u[i].c);
			return buf;
		}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const char *qemu_preflight_accel(const struct qemu_spec *s)
{
	return s->accel == QEMU_ACCEL_KVM ? "kvm" : "tcg";
}

/* A small sysfs attribute of interface name as a number; -errno when it cannot be read. */
static int qemu_preflight_sysfs(const char *name, const char *attr, long *out)
{
	char path[96], buf[32], *end;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, attr);
	n = procfile_read(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	errno = 0;
	*out = strtol(buf, &end, 0);
	return errno || end == buf ? -EIO : 0;
}

/* CAP_NET_ADMIN in the effective set: the kernel's tun ownership check does not apply. */
static bool qemu_preflight_net_admin(void)
{
	char line[128];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << 12);
}

static bool qemu_preflight_in_group(gid_t g)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (g == getegid())
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/*
 * --net tap:NAME attaches to an existing tap, never makes one: kvmload's
 * TUNSETIFF (qemu_tap_open; QEMU gets the descriptor) on a missing name would
 * create a fresh, unconfigured tap as root (and fail as anyone else), and
 * fails with EINVAL on an interface that is no tap (lo, eth0), a tun
 * (layer 3) device or a multi_queue tap, with EPERM on another user's tap
 * when not root (tested: tests/kvm/preflight.sh).
 */
static int qemu_preflight_net(const struct qemu_spec *s, char *err, size_t errlen)
{
	const char *name;
	long flags, owner, group;
	bool by_uid;
	int r;

	if (!s->net || strncmp(s->net, "tap:", 4) != 0)
		return 0;
	name = s->net + 4;
	if (if_nametoindex(name) == 0 && errno == ENODEV)
		return errmsg_set(err, errlen, ERANGE, "--net %s: no such network interface; create the tap "
				  "first (ip tuntap add dev %s mode tap)", s->net, name);
	r = qemu_preflight_sysfs(name, "tun_flags", &flags);
	if (r == -ENOENT && access("/sys/class/net", F_OK) == 0)
		return errmsg_set(err, errlen, ERANGE, "--net %s: not a tap device (no /sys/class/net/%s/"
				  "tun_flags); QEMU attaches only to a tap: create one (ip tuntap add dev NAME "
				  "mode tap)", s->net, name);
	if (r < 0)
		return 0; /* no sysfs here: QEMU will say */
	if (!(flags & IFF_TAP))
		return errmsg_set(err, errlen, ERANGE, "--net %s: a tun (layer 3) device, not a tap; QEMU's "
				  "virtio-net needs a tap (ip tuntap add dev NAME mode tap)", s->net);
	if (flags & IFF_MULTI_QUEUE)
		return errmsg_set(err, errlen, ERANGE, "--net %s: a multi_queue tap; QEMU attaches one queue "
				  "and the kernel refuses that: create it without multi_queue", s->net);
	if (access("/dev/net/tun", R_OK | W_OK) < 0)
		return errmsg_set(err, errlen, ERANGE, "--net %s: /dev/net/tun: %s; kvmload attaches to "
				  "the tap through it", s->net, strerror(errno));
	if (qemu_preflight_sysfs(name, "owner", &owner) < 0)
		owner = -1;
	if (qemu_preflight_sysfs(name, "group", &group) < 0)
		group = -1;
	/* The kernel's tun_not_capable(): an owner or group set and not ours, and no CAP_NET_ADMIN. */
	by_uid = owner != -1 && (uid_t)owner != geteuid();
	if ((by_uid || (group != -1 && !qemu_preflight_in_group((gid_t)group))) && !qemu_preflight_net_admin())
		return errmsg_set(err, errlen, ERANGE, "--net %s: belongs to %s %ld; kvmload, running as uid "
				  "%u without CAP_NET_ADMIN, may not attach to it (ip tuntap add dev %s mode tap "
				  "user %u)", s->net, by_uid ? "uid" : "group", by_uid ? owner : group,
				  (unsigned)geteuid(), name, (unsigned)geteuid());
	return 0;
}

/*
 * --accel kvm: QEMU refuses more vCPUs than KVM_CAP_MAX_VCPUS (else
 * KVM_CAP_NR_VCPUS, else 4; kvm_init), and KVM a vCPU id (the APIC id,
 * 0..N-1 on the pc machine) from KVM_CAP_MAX_VCPU_ID on.  Asked on every
 * start: /dev/kvm opened read-only for the query and closed.  The pc
 * machine's own limit (255) is vmopt's (VMOPT_CPUS_MAX), said at --cpus.
 */
static int qemu_preflight_cpus(const struct qemu_spec *s, char *err, size_t errlen)
{
	int fd, max, nr, id;

	if (s->accel != QEMU_ACCEL_KVM)
		return 0;
	fd = open("/dev/kvm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* qemu_check says what is wrong with /dev/kvm */
	max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	nr = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	id = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	close(fd);
	if (max <= 0)
		max = nr > 0 ? nr : KVM_VCPUS_DEFAULT;
	if (s->cpus > max)
		return errmsg_set(err, errlen, ERANGE, "--cpus %d: KVM here runs at most %d vCPUs in a VM "
				  "(KVM_CAP_MAX_VCPUS); use fewer, or --accel tcg", s->cpus, max);
	if (id > 0 && s->cpus > id)
		return errmsg_set(err, errlen, ERANGE, "--cpus %d: KVM here takes vCPU ids below %d "
				  "(KVM_CAP_MAX_VCPU_ID); use fewer, or --accel tcg", s->cpus, id);
	return 0;
}

/* The vCPU QEMU makes: TCG's "max" (AMD, 40 bits), or KVM's "host" (this CPU's vendor and width). */
static void qemu_preflight_vcpu(const struct qemu_spec *s, unsigned *bits, bool *amd)
{
	unsigned a, b, c, d;

	*bits = TCG_PHYS_BITS;
	*amd = true;
	if (s->accel == QEMU_ACCEL_TCG)
		return;
	/* QEMU's host_cpu_phys_bits(): CPUID 0x80000008 (not /proc/cpuinfo, which SME may lower), else 36. */
	*bits = 36;
	if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000008 &&
	    __get_cpuid(0x80000008, &a, &b, &c, &d))
		*bits = a & 0xff;
	*amd = __get_cpuid(0, &a, &b, &c, &d) && b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163;
}

/*
 * Guest RAM the pc machine cannot hold, or would move from where kvmload's
 * memory map (gmem.c: above 3 GiB at 4 GiB) puts it.  Order: the first one
 * the user can act on for the accelerator chosen.
 */
static int qemu_preflight_memory(const struct qemu_spec *s, char *err, size_t errlen)
{
	uint64_t high = s->memsize > PC_LOWMEM ? s->memsize - PC_LOWMEM : 0;
	/* The end of the 64-bit PCI window, just above the RAM (QEMU's pc_max_used_gpa() + 1). */
	uint64_t end = ((PC_HIGHMEM + high + GiB - 1) & ~(GiB - 1)) + PC_HOLE64;
	char m[32], lim[32];
	struct rlimit as;
	unsigned bits;
	bool amd;

	qemu_preflight_size(s->memsize, m, sizeof(m));
	if (s->memsize % PC_RAM_ALIGN)
		return errmsg_set(err, errlen, ERANGE, "-m %s: QEMU takes guest RAM in whole 8 KiB units "
				  "(two pages); use a multiple of 8K", m);
	if (s->accel == QEMU_ACCEL_KVM && high > KVM_SLOT_MAX)
		return errmsg_set(err, errlen, ERANGE, "-m %s: under --accel kvm QEMU hands the RAM above "
				  "3 GiB to KVM as one memory slot, and a slot holds at most 2^31-1 pages "
				  "(8 TiB - 4 KiB): use less than %lluG", m,
				  (unsigned long long)((KVM_SLOT_MAX + PC_LOWMEM) / GiB + 1));
	qemu_preflight_vcpu(s, &bits, &amd);
	if (bits < 64 && end > (1ULL << bits))
		return errmsg_set(err, errlen, ERANGE, "-m %s: the guest's RAM and QEMU's 2 GiB 64-bit PCI "
				  "window would end at %llu GiB, beyond the %u-bit physical address space QEMU "
				  "gives the guest under --accel %s: at most %s", m,
				  (unsigned long long)(end / GiB), bits, qemu_preflight_accel(s),
				  qemu_preflight_size((1ULL << bits) - PC_LOWMEM, lim, sizeof(lim)));
	if (amd && end > PC_AMD_HT)
		return errmsg_set(err, errlen, ERANGE, "-m %s: with it QEMU would move the RAM above 4 GiB to "
				  "1 TiB (AMD's HyperTransport hole; the vCPU under --accel %s is an AMD one), "
				  "where kvmload's memory map does not put it: at most %s", m,
				  qemu_preflight_accel(s),
				  qemu_preflight_size(PC_AMD_HT - PC_HOLE64 - GiB, lim, sizeof(lim)));
	/* The memfd is sparse and MAP_SHARED (no overcommit charge), but each process maps all of it. */
	if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY && s->memsize >= as.rlim_cur)
		return errmsg_set(err, errlen, ERANGE, "-m %s: not below this process's address-space limit "
				  "(RLIMIT_AS, ulimit -v: %s); kvmload and QEMU each map all of the guest's RAM",
				  m, qemu_preflight_size((uint64_t)as.rlim_cur & ~(KiB - 1), lim, sizeof(lim)));
	return 0;
}

/* Each disk and the NIC is a PCI device of its own, at slot QEMU_PCI_SLOT0 on: the bus has 32. */
static int qemu_preflight_slots(const struct qemu_spec *s, char *err, size_t errlen)
{
	int free_slots = 32 - QEMU_PCI_SLOT0, net = s->net && strcmp(s->net, "none") != 0;

	if (s->ndisks + net <= free_slots)
		return 0;
	return errmsg_set(err, errlen, ERANGE, "-d: %d disks%s: QEMU's pc machine has PCI slots %d-31 for "
			  "the guest's disks and network device, so at most %d disks (%d with --net)", s->ndisks,
			  net ? " and --net" : "", QEMU_PCI_SLOT0, free_slots, free_slots - 1);
}

int qemu_preflight(const struct qemu_spec *s, char *err, size_t errlen)
{
	int r = qemu_preflight_slots(s, err, errlen);

	if (r == 0)
		r = qemu_preflight_net(s, err, errlen);

	if (r == 0)
		r = qemu_preflight_cpus(s, err, errlen);
	if (r == 0)
		r = qemu_preflight_memory(s, err, errlen);
	return r;
}

/* Of QEMU's command line, what sizes the machine: accelerator, vCPU, RAM, firmware; no device, no file. */
static void qemu_preflight_argv(const struct argv *full, struct argv *a)
{
	static const char *const keep[] = { "-accel", "-cpu", "-smp", "-machine", "-m", "-bios" };

	argv_add(a, full->v[0]);
	argv_add(a, "-nodefaults");
	argv_add(a, "-no-user-config");
	argv_add(a, "-display");
	argv_add(a, "none");
	for (int i = 1; i + 1 < full->n; i++) {
		bool k = strcmp(full->v[i], "-object") == 0 &&
			 strncmp(full->v[i + 1], "memory-backend-", 15) == 0;

		for (size_t j = 0; !k && j < sizeof(keep) / sizeof(keep[0]); j++)
			k = strcmp(full->v[i], keep[j]) == 0;
		if (k) {
			argv_add(a, full->v[i]);
			argv_add(a, full->v[++i]);
		}
	}
	/* Stopped before the first instruction; QMP on stdin says quit once the machine is made. */
	argv_add(a, "-S");
	argv_add(a, "-qmp");
	argv_add(a, "stdio");
}

/* QEMU confined as for the run, its QMP on stdin, its RAM and firmware where the argv names them; *p set. */
static int qemu_preflight_spawn(char **argv, int in, int errw, int ram, int bios, const struct qemu_confine *c,
				struct spawn_proc *p)
{
	int want[QEMU_FD_BIOS + 1] = { in, SPAWN_FD_NULL, errw, [QEMU_FD_RAM] = ram,
				       [QEMU_FD_RAM + 1 ... QEMU_FD_BIOS - 1] = -1, [QEMU_FD_BIOS] = bios };
	struct qemu_confined q = { .conf = c, .log_fd = -1, .err_w = errw };
	struct spawn_spec spec = { .argv = argv, .search = true, .fds = want, .nfds = QEMU_FD_BIOS + 1,
				   .deathsig = SIGKILL, .own_pgrp = true, .in_child = qemu_confine_spawned,
				   .arg = &q };
	int r = spawn_child(&spec, p);

	/* A child that failed has ended 127 (not there: qemu_check names the program), its reason said. */
	return p->pid > 0 ? 0 : r;
}

/*
 * QEMU's stderr until it closes (true) or the deadline (false); text is left
 * holding its last line that is no warning.
 */
static bool qemu_preflight_read(int fd, int64_t deadline, char *text, size_t len)
{
	size_t n = 0;
	char *line, *last = NULL;
	bool eof = false;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - monotime_ms();
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (n + 1 >= len)
			n = 0; /* a flood: only its end matters */
		got = read(fd, text + n, len - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			eof = true;
			break;
		}
		n += (size_t)got;
	}
	text[n] = '\0';
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (!last || !strstr(line, "warning:"))
			last = line;
	memmove(text, last ? last : "", last ? strlen(last) + 1 : 1);
	return eof;
}

/*
 * Under a finite RLIMIT_AS or RLIMIT_DATA, what QEMU needs beyond the guest's
 * RAM (its TCG code buffer alone is 1 GiB; ~1.4 GiB in all under TCG, ~0.3
 * GiB under KVM, here) is QEMU's to know: it is asked once, started stopped
 * on a sparse memfd of the same size with the same accelerator, vCPU, -smp,
 * machine and -m, then told to quit.  Without such a limit nothing is run.
 */
int qemu_preflight_ask(const struct qemu_spec *s, char *err, size_t errlen)
{
	static const char quit[] = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";
	struct qemu_spec bare = *s;
	struct qemu_confine c;
	struct rlimit as, data;
	struct argv full = { 0 }, a = { 0 };
	int in[2] = { -1, -1 }, errp[2] = { -1, -1 }, ram = -1, bios = -1, st = 0, r = 0;
	char text[PROBE_ERR], m[32], lim[32];
	struct spawn_proc p = { .pid = -1, .pidfd = -1 };

	if (getrlimit(RLIMIT_AS, &as) < 0 || getrlimit(RLIMIT_DATA, &data) < 0 ||
	    (as.rlim_cur == RLIM_INFINITY && data.rlim_cur == RLIM_INFINITY))
		return 0;
	if (qemu_confine_plan(s, &c, text, sizeof(text)) < 0)
		return 0; /* qemu_check said it */
	/* No disk, no network: nothing is opened or attached, whatever qemu_argv does with them. */
	bare.ndisks = 0;
	bare.net = "none";
	if (qemu_argv(&bare, &full) == 0)
		qemu_preflight_argv(&full, &a);
	argv_free(&full);
	if (!a.v || a.oom || (ram = memfd_create("kvmload-preflight", MFD_CLOEXEC)) < 0 ||
	    (bios = open(s->firmware, O_RDONLY | O_CLOEXEC)) < 0 ||
	    ftruncate(ram, (off_t)s->memsize) < 0 || pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    write(in[1], quit, sizeof(quit) - 1) != sizeof(quit) - 1 ||
	    qemu_preflight_spawn(a.v, in[0], errp[1], ram, bios, &c, &p) < 0) {
		/* Nothing asked: the run itself will say. */
		log_warn("could not ask QEMU about the guest's memory under this process's limits");
		goto out;
	}
	log_debug("asked QEMU whether it starts under this process's memory limit");
	close(in[1]);
	in[1] = -1;
	close(errp[1]);
	errp[1] = -1;
	if (!qemu_preflight_read(errp[0], monotime_ms() + PROBE_MS, text, sizeof(text))) {
		log_warnx("QEMU did not answer within %d s about the guest's memory; going on", PROBE_MS / 1000);
		syscall(SYS_pidfd_send_signal, p.pidfd, SIGKILL, NULL, 0);
		spawn_wait(&p, -1, &st);
		goto out;
	}
	spawn_wait(&p, -1, &st);
	if ((WIFEXITED(st) && WEXITSTATUS(st) == 0) || (WIFEXITED(st) && WEXITSTATUS(st) == 127 && !*text))
		goto out;
	qemu_preflight_size(s->memsize, m, sizeof(m));
	if (as.rlim_cur != RLIM_INFINITY)
		snprintf(lim, sizeof(lim), "ulimit -v %lluK", (unsigned long long)(as.rlim_cur / KiB));
	else
		snprintf(lim, sizeof(lim), "ulimit -d %lluK", (unsigned long long)(data.rlim_cur / KiB));
	r = errmsg_set(err, errlen, ERANGE, "-m %s --cpus %d --accel %s: QEMU does not start under this "
		       "process's memory limit (%s): %s", m, s->cpus, qemu_preflight_accel(s), lim,
		       *text ? text : "it failed without a message");
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (ram >= 0)
		close(ram);
	if (bios >= 0)
		close(bios);
	spawn_release(&p);
	argv_free(&a);
	return r;
}
