/* test_qmp.c: QMP messages QEMU 7.2 sends, one vCPU's registers judged halted or not, split delivery and EOF on a socketpair, hostile input, quoting, command bytes and the write deadline. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "qemu.h"
#include "qmp.h"

static struct qmp q;
static struct qmp_msg m;

/* Parse s from a heap copy of exactly its length, so ASan sees any read past the end. */
static int parse_n(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, s, len);
	ret = qmp_parse(&q, copy, len, &m);
	free(copy);
	return ret;
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

/* Messages seen by qmp_read: the last one, with its text copied while it is valid. */
struct seen {
	int n;
	struct qmp_msg last;
	char *text;
	enum qmp_kind kinds[16];
};

static void on_msg(void *arg, const struct qmp_msg *msg)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->kinds[s->n] = msg->kind;
	s->n++;
	s->last = *msg;
	free(s->text);
	s->text = msg->text ? strndup(msg->text, msg->text_len) : NULL;
}

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		exit(2);
	fcntl(sv[0], F_SETFL, O_NONBLOCK); /* the client end: qmp_read never blocks here */
}

static const char greeting[] = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
	"\"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}";
static const char shutdown_ev[] = "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, "
	"\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-reset\"}}";

static void test_examples(void)
{
	CHECK_EQ(parse(greeting), 0);
	CHECK_EQ(m.kind, QMP_GREETING);
	CHECK(m.text == NULL && m.guest == -1 && !m.event[0] && !m.id[0]);

	CHECK_EQ(parse("{\"return\": {}}"), 0);
	CHECK_EQ(m.kind, QMP_RETURN);
	CHECK(m.text == NULL && !m.status[0]);

	CHECK_EQ(parse("{\"return\": {\"status\": \"internal-error\", \"singlestep\": false, \"running\": false}}"), 0);
	CHECK_EQ(m.kind, QMP_RETURN);
	CHECK_STR(m.status, "internal-error");

	CHECK_EQ(parse("{\"return\": \"RAX=0000000000000000 RBX=...\\r\\nRIP=ffffffff80200000 RFL=00000002 "
		       "[-------] CPL=0 II=0 A20=1 SMM=0 HLT=1\\r\\n\\\"q\\\" \\\\ \\t \\/ \\u00e9\\u20ac\\ud83d\\ude00\"}"), 0);
	CHECK_EQ(m.kind, QMP_RETURN);
	CHECK_STR(m.text, "RAX=0000000000000000 RBX=...\r\nRIP=ffffffff80200000 RFL=00000002 "
		  "[-------] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n\"q\" \\ \t / \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	CHECK_EQ(m.text_len, strlen(m.text));
	CHECK(!m.status[0]);

	CHECK_EQ(parse("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter 'x'\"}}"), 0);
	CHECK_EQ(m.kind, QMP_ERROR);
	CHECK_STR(m.error, "Invalid parameter 'x'");

	CHECK_EQ(parse(shutdown_ev), 0);
	CHECK_EQ(m.kind, QMP_EVENT);
	CHECK_STR(m.event, "SHUTDOWN");
	CHECK_STR(m.reason, "guest-reset");
	CHECK_EQ(m.guest, 1);

	CHECK_EQ(parse("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"GUEST_PANICKED\", "
		       "\"data\": {\"action\": \"pause\", \"info\": {\"type\": \"hyper-v\", \"arg1\": 0, \"arg2\": -1.5e3, "
		       "\"list\": [1, null, true, {\"reason\": \"nested\"}]}}}"), 0);
	CHECK_STR(m.event, "GUEST_PANICKED");
	CHECK_STR(m.reason, ""); /* info.list[3].reason is not data.reason */
	CHECK_EQ(m.guest, -1);

	CHECK_EQ(parse("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, \"event\": \"STOP\"}"), 0);
	CHECK_STR(m.event, "STOP");
	CHECK(m.guest == -1 && !m.reason[0]);

	CHECK_EQ(parse("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 5}, \"event\": \"RESET\", "
		       "\"data\": {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}}"), 0);
	CHECK_STR(m.event, "RESET");
	CHECK_EQ(m.guest, 0);
	CHECK_STR(m.reason, "host-qmp-system-reset");

	/* id, before or after the kind member; a non-string id is skipped. */
	CHECK_EQ(parse("{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"s1\"}"), 0);
	CHECK_STR(m.id, "s1");
	CHECK_STR(m.status, "running");
	CHECK_EQ(parse(" {\"id\":\"e2\",\"error\":{\"desc\":\"no\",\"class\":\"CommandNotFound\"}} \t\r"), 0);
	CHECK_EQ(m.kind, QMP_ERROR);
	CHECK_STR(m.id, "e2");
	CHECK_EQ(parse("{\"return\": {}, \"id\": 7}"), 0);
	CHECK_STR(m.id, "");
	/* Other return types: no text, no status. */
	CHECK_EQ(parse("{\"return\": [{\"cpu-index\": 0, \"status\": \"x\"}]}"), 0);
	CHECK(m.text == NULL && !m.status[0]);
	CHECK_EQ(parse("{\"return\": \"\"}"), 0);
	CHECK(m.text && m.text_len == 0 && !m.text[0]);
}

static void test_truncation(void)
{
	char line[1024], name[200], desc[400];

	memset(name, 'E', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(desc, 'd', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	snprintf(line, sizeof(line), "{\"event\": \"%s\", \"data\": {\"reason\": \"%s\"}}", name, name);
	CHECK_EQ(parse(line), 0);
	CHECK_EQ(strlen(m.event), sizeof(m.event) - 1);
	CHECK_EQ(strlen(m.reason), sizeof(m.reason) - 1);
	CHECK(!strncmp(m.event, name, sizeof(m.event) - 1));
	snprintf(line, sizeof(line), "{\"error\": {\"desc\": \"%s\"}, \"id\": \"%s\"}", desc, name);
	CHECK_EQ(parse(line), 0);
	CHECK_EQ(strlen(m.error), sizeof(m.error) - 1);
	CHECK_EQ(strlen(m.id), sizeof(m.id) - 1);
	/* A key longer than the reader keeps is not mistaken for a shorter one. */
	snprintf(line, sizeof(line), "{\"return\": {\"status%s\": \"x\"}}", name);
	CHECK_EQ(parse(line), 0);
	CHECK_STR(m.status, "");
}

/* A 100 KiB human-monitor-command reply: raw JSON in *json, the decoded text in *text. */
static size_t big_reply(char **json, char **text)
{
	static const char *const raw[] = { "RIP=ffffffff80200000", "\\r\\n", "\\\"", "\\\\", "\\t", "\\u00e9", "\\ud83d\\ude00" };
	static const char *const dec[] = { "RIP=ffffffff80200000", "\r\n", "\"", "\\", "\t", "\xc3\xa9", "\xf0\x9f\x98\x80" };
	size_t jn, tn, i;

	*json = malloc(200 * 1024);
	*text = malloc(200 * 1024);
	jn = (size_t)sprintf(*json, "{\"return\": \"");
	for (i = 0, tn = 0; tn < 100 * 1024; i++) {
		jn += (size_t)sprintf(*json + jn, "%s", raw[i % 7]);
		tn += (size_t)sprintf(*text + tn, "%s", dec[i % 7]);
	}
	sprintf(*json + jn, "\", \"id\": \"hmp\"}");
	return tn;
}

static void test_big(void)
{
	char *json, *text;
	size_t tn = big_reply(&json, &text);

	CHECK_EQ(parse(json), 0);
	CHECK_EQ(m.text_len, tn);
	CHECK(m.text && !memcmp(m.text, text, tn) && m.text[tn] == '\0');
	CHECK_STR(m.id, "hmp");
	free(json);
	free(text);
}

/*
 * QEMU 7.2's answer to {"command-line":"info registers","cpu-index":1} for
 * an application processor in wait-for-SIPI (-smp 2 -S), cut after the line
 * that matters and the next; and the same line in 64-bit mode, printf's
 * %s the vCPU's number, RFLAGS and HLT.
 */
static const char regs_ap[] = "{\"return\": \"\\r\\nCPU#1\\r\\nEAX=00000000 EBX=00000000 ECX=00000000 "
	"EDX=00060fb1\\r\\nESI=00000000 EDI=00000000 EBP=00000000 ESP=00000000\\r\\nEIP=0000fff0 EFL=00000002 "
	"[-------] CPL=0 II=0 A20=1 SMM=0 HLT=1\\r\\nES =0000 00000000 0000ffff 00009300\\r\\n\"}";
static const char regs_64[] = "\r\nCPU#%s\r\nRAX=0000000000000000 RBX=0000000000000000 RCX=0000000000000000 "
	"RDX=0000000000000000\r\nRIP=ffffffff80200a3c RFL=%s [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=%s\r\n"
	"ES =0010 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\r\n";

static int halted64(const char *cpu, const char *rfl, const char *hlt, int asked)
{
	char text[512];

	snprintf(text, sizeof(text), regs_64, cpu, rfl, hlt);
	return qemu_cpu_halted(text, asked);
}

static void test_cpu_halted(void)
{
	char text[1024];

	/* The real reply, through the parser as kvmload reads it: halted, for the vCPU asked only. */
	CHECK_EQ(parse(regs_ap), 0);
	CHECK(m.text != NULL);
	CHECK_EQ(qemu_cpu_halted(m.text, 1), 1);
	CHECK_EQ(qemu_cpu_halted(m.text, 0), -EPROTO);
	CHECK_EQ(qemu_cpu_halted(m.text, 11), -EPROTO);
	/* HLT=0: it runs (QEMU's vCPU 0 at reset). */
	snprintf(text, sizeof(text), "%s", m.text);
	*strstr(text, "HLT=1") = '\0';
	strcat(text, "HLT=0\r\n");
	CHECK_EQ(qemu_cpu_halted(text, 1), 0);

	/* 64-bit: halted only with IF (0x200) clear; the number compared whole. */
	CHECK_EQ(halted64("0", "00000046", "1", 0), 1);
	CHECK_EQ(halted64("254", "00000002", "1", 254), 1);
	CHECK_EQ(halted64("0", "00000246", "1", 0), 0);
	CHECK_EQ(halted64("0", "00000046", "0", 0), 0);
	CHECK_EQ(halted64("12", "00000046", "1", 1), -EPROTO);
	CHECK_EQ(halted64("1", "00000046", "1", 12), -EPROTO);
	CHECK_EQ(halted64("+1", "00000046", "1", 1), -EPROTO);
	CHECK_EQ(halted64("1 ", "00000046", "1", 1), -EPROTO);
	CHECK_EQ(halted64("1", "zz", "1", 1), -EPROTO);
	CHECK_EQ(halted64("1", "00000046", "x", 1), -EPROTO);

	/* Not one dump of the vCPU asked: every vCPU's (info registers -a), nothing, or words. */
	snprintf(text, sizeof(text), regs_64, "0", "00000046", "1");
	snprintf(text + strlen(text), sizeof(text) - strlen(text), regs_64, "1", "00000046", "1");
	CHECK_EQ(qemu_cpu_halted(text, 0), -EPROTO);
	CHECK_EQ(qemu_cpu_halted("", 0), -EPROTO);
	CHECK_EQ(qemu_cpu_halted("CPU#3 not available\r\n", 3), -EPROTO);
	CHECK_EQ(qemu_cpu_halted("\r\nCPU#0\r\nRIP=ffffffff80200a3c RFL=00000046\r\n", 0), -EPROTO);
	CHECK_EQ(qemu_cpu_halted("\r\nCPU#0\r\nCPL=0 II=0 A20=1 SMM=0 HLT=1\r\n", 0), -EPROTO);
}

static void test_split(void)
{
	struct seen s = { 0 };
	char all[4096], *json, *text;
	size_t n, tn, off;
	int sv[2], ret = 0, total = 0;

	pair(sv);
	CHECK_EQ(qmp_init(&q, sv[0]), 0);
	n = (size_t)snprintf(all, sizeof(all), "%s\r\n{\"return\": {}, \"id\": \"c\"}\n\r\n%s\r\n", greeting, shutdown_ev);
	/* Nothing there yet: EAGAIN is 0 messages. */
	CHECK_EQ(qmp_read(&q, on_msg, &s), 0);
	for (size_t i = 0; i < n; i++) {
		if (write(sv[1], all + i, 1) != 1)
			exit(2);
		ret = qmp_read(&q, on_msg, &s);
		if (ret < 0)
			break;
		total += ret;
	}
	CHECK_EQ(ret, 1); /* the last byte completed the event */
	CHECK_EQ(total, 3);
	CHECK_EQ(s.n, 3);
	CHECK(s.kinds[0] == QMP_GREETING && s.kinds[1] == QMP_RETURN && s.kinds[2] == QMP_EVENT);
	CHECK_STR(s.last.event, "SHUTDOWN");

	/* Three messages in one read. */
	s.n = 0;
	if (write(sv[1], all, n) != (ssize_t)n)
		exit(2);
	CHECK_EQ(qmp_read(&q, on_msg, &s), 3);

	/* The big reply in odd chunks, then a STOP in the same chunk as its tail. */
	tn = big_reply(&json, &text);
	strcat(json, "\r\n{\"event\": \"STOP\"}\n");
	n = strlen(json);
	s.n = 0;
	for (off = 0, total = 0; off < n; off += 4093) {
		size_t k = n - off < 4093 ? n - off : 4093;

		if (write(sv[1], json + off, k) != (ssize_t)k)
			exit(2);
		while ((ret = qmp_read(&q, on_msg, &s)) > 0)
			total += ret;
		if (ret < 0)
			break;
	}
	CHECK_EQ(total, 2);
	CHECK(s.kinds[0] == QMP_RETURN && s.kinds[1] == QMP_EVENT);
	free(s.text);
	s.text = NULL;
	/* Check the text as the callback saw it. */
	s.n = 0;
	json[strlen(json) - strlen("\r\n{\"event\": \"STOP\"}\n")] = '\0';
	strcat(json, "\n");
	n = strlen(json);
	for (off = 0; off < n; off += 777) {
		size_t k = n - off < 777 ? n - off : 777;

		if (write(sv[1], json + off, k) != (ssize_t)k)
			exit(2);
		while (qmp_read(&q, on_msg, &s) > 0)
			;
	}
	CHECK_EQ(s.n, 1);
	CHECK(s.text && strlen(s.text) == tn && !memcmp(s.text, text, tn));
	CHECK_EQ(s.last.text_len, tn);
	free(json);
	free(text);

	/* EOF after a partial line: -EPIPE. */
	if (write(sv[1], "{\"ret", 5) != 5)
		exit(2);
	CHECK_EQ(qmp_read(&q, on_msg, &s), 0);
	close(sv[1]);
	CHECK_EQ(qmp_read(&q, on_msg, &s), -EPIPE);
	CHECK_EQ(qmp_read(&q, on_msg, &s), -EPIPE);
	qmp_fini(&q);
	qmp_fini(&q); /* twice is harmless */
	close(sv[0]);
	free(s.text);
}

/* Feed bytes, with its newline as given, to a fresh client; the first non-zero qmp_read result. */
static int read_result(const char *bytes, size_t n, struct seen *s)
{
	struct qmp c;
	int sv[2], ret = 0;
	size_t off = 0;

	pair(sv);
	if (qmp_init(&c, sv[0]))
		exit(2);
	while (off < n && ret == 0) {
		ssize_t w = write(sv[1], bytes + off, n - off < 65536 ? n - off : 65536);

		if (w <= 0)
			exit(2);
		off += (size_t)w;
		while ((ret = qmp_read(&c, on_msg, s)) > 0)
			;
	}
	if (ret == 0)
		ret = qmp_read(&c, on_msg, s);
	if (ret == -EPROTO) /* sticky */
		CHECK_EQ(qmp_read(&c, on_msg, s), -EPROTO);
	qmp_fini(&c);
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static void test_line_limits(void)
{
	struct seen s = { 0 };
	size_t n = QMP_LINE_MAX;
	char *line = malloc(n + 16);

	/* Exactly QMP_LINE_MAX bytes, then "\r\n": accepted. */
	memcpy(line, "{\"return\": \"", 12);
	memset(line + 12, 'x', n - 14);
	memcpy(line + n - 2, "\"}\r\n", 4);
	CHECK_EQ(read_result(line, n + 2, &s), 0); /* handled; then EAGAIN */
	CHECK_EQ(s.n, 1);
	CHECK(s.text && strlen(s.text) == n - 14);
	CHECK_EQ(qmp_parse(&q, line, n, &m), 0);
	/* One byte more: refused, with or without a newline to end it. */
	memcpy(line + n - 2, "x\"}\n", 4);
	s.n = 0;
	CHECK_EQ(read_result(line, n + 2, &s), -EPROTO);
	CHECK_EQ(s.n, 0);
	CHECK_EQ(qmp_parse(&q, line, n + 1, &m), -EPROTO);
	memset(line, 'x', n + 16);
	CHECK_EQ(read_result(line, n + 16, &s), -EPROTO);
	/* A good message, then a NUL byte inside the next line. */
	s.n = 0;
	CHECK_EQ(read_result("{\"return\": {}}\n{\"return\": \"a\0b\"}\n", 33, &s), -EPROTO);
	CHECK_EQ(s.n, 1);
	free(line);
}

static void test_hostile(void)
{
	static const char *const bad[] = {
		"{\"return\": \"abc",                 /* unterminated string */
		"{\"return\": \"abc\\",
		"{\"return\" {}}",                    /* missing colon */
		"{\"return\": \"a\\x\"}",             /* bad escape */
		"{\"return\": \"a\\u0000b\"}",        /* \u0000 */
		"{\"return\": \"a\\u12\"}",
		"{\"return\": \"a\\u12g4\"}",
		"{\"return\": \"\\ud83d\"}",          /* unpaired high surrogate */
		"{\"return\": \"\\ud83dx\"}",
		"{\"return\": \"\\ud83d\\u0041\"}",
		"{\"return\": \"\\ude00\"}",          /* lone low surrogate */
		"{\"return\": \"tab\there\"}",        /* raw control byte */
		"{\"return\": {}, \"error\": {\"desc\": \"x\"}}", /* two kinds */
		"{\"event\": \"STOP\", \"QMP\": {}}",
		"{\"return\": {}, \"return\": {}}",
		"{\"timestamp\": {\"seconds\": 1}}",  /* no kind */
		"{}",
		"{\"return\": {}} x",                 /* trailing garbage */
		"{\"return\": {}}{}",
		"{\"return\": {}}}",
		"[1]", "\"return\"", "42", "", "   ", "null", /* not an object */
		"{\"return\": {},}", "{\"return\": {} \"id\": \"x\"}", "{\"return\": {}", "{\"return\": }",
		"{return: {}}", "{1: 2}", "{\"return\": [1,]}", "{\"return\": [1 2]}", "{\"return\": [",
		"{\"return\": 01}", "{\"return\": 1.}", "{\"return\": -}", "{\"return\": 1e}", "{\"return\": +1}",
		"{\"return\": .5}", "{\"return\": tru}", "{\"return\": nul}", "{\"return\": True}",
		"{\"event\": 5}", "{\"event\": \"STOP\", \"data\": 5}", "{\"error\": \"x\"}", "{\"QMP\": 1}",
		"{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": tru}}",
		"{\"return\": {}}\x01",
	};
	char *deep = malloc(4096), *p;
	int fails = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i]) != -EPROTO) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			fails++;
		}
		CHECK(m.text == NULL);
	}
	CHECK_EQ(fails, 0);
	CHECK_EQ(parse_n("{\"return\": \"a\0b\"}", 17), -EPROTO); /* NUL inside a string */
	CHECK_EQ(parse_n("{\"return\":\0{}}", 14), -EPROTO);      /* ... and outside one */
	CHECK_EQ(parse_n("{\"return\": {}}\0", 15), -EPROTO);
	CHECK_EQ(parse("{\"return\": [-0.5e+10, 0, 12E3, 1.25, true, false, null, \"\", {}, []]}"), 0);

	/* 1000 levels of [[[[ and of {"a":{"a":..., closed or not. */
	p = deep + sprintf(deep, "{\"return\": ");
	memset(p, '[', 1000);
	memset(p + 1000, ']', 1000);
	strcpy(p + 2000, "}");
	CHECK_EQ(parse(deep), -EPROTO);
	p[1000] = '\0';
	CHECK_EQ(parse(deep), -EPROTO);
	for (p = deep, *p = '\0'; p < deep + 3000; p += 5)
		memcpy(p, "{\"a\":", 5);
	*p = '\0';
	CHECK_EQ(parse(deep), -EPROTO);
	/* The limit itself: the top object is depth 1, so 31 arrays inside "return" fit and 32 do not. */
	p = deep + sprintf(deep, "{\"return\": ");
	memset(p, '[', QMP_DEPTH_MAX - 1);
	memset(p + QMP_DEPTH_MAX - 1, ']', QMP_DEPTH_MAX - 1);
	strcpy(p + 2 * (QMP_DEPTH_MAX - 1), "}");
	CHECK_EQ(parse(deep), 0);
	memset(p, '[', QMP_DEPTH_MAX);
	memset(p + QMP_DEPTH_MAX, ']', QMP_DEPTH_MAX);
	strcpy(p + 2 * QMP_DEPTH_MAX, "}");
	CHECK_EQ(parse(deep), -EPROTO);
	free(deep);
}

/* Every proper prefix of a valid message is refused; random mutations give 0 or -EPROTO. */
static void test_prefixes_and_mutations(void)
{
	static const char *const good[] = { greeting, shutdown_ev,
		"{\"return\": \"a\\r\\n\\u00e9\\ud83d\\ude00\\\"\", \"id\": \"x\"}",
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"d\"}}" };
	char buf[512];
	int bad_prefix = 0, odd = 0;
	unsigned seed = 1;

	for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		size_t n = strlen(good[g]);

		for (size_t k = 0; k < n; k++)
			bad_prefix += parse_n(good[g], k) != -EPROTO;
		for (int i = 0; i < 3000; i++) {
			int ret;

			memcpy(buf, good[g], n);
			for (int j = 0; j < 1 + i % 4; j++) {
				seed = seed * 1103515245 + 12345;
				buf[(seed >> 8) % n] = (char)(seed >> 20);
			}
			ret = parse_n(buf, n);
			odd += ret != 0 && ret != -EPROTO;
			odd += ret == 0 && m.text && strlen(m.text) > m.text_len;
		}
	}
	CHECK_EQ(bad_prefix, 0);
	CHECK_EQ(odd, 0);
}

static void test_quote(void)
{
	char s[300], quoted[2048], line[2100];
	size_t i;

	for (i = 1; i < 256; i++)
		s[i - 1] = (char)i;
	s[255] = '\0';
	CHECK_EQ(qmp_quote(quoted, sizeof(quoted), s), 0);
	CHECK(quoted[0] == '"' && quoted[strlen(quoted) - 1] == '"');
	snprintf(line, sizeof(line), "{\"return\": %s}", quoted);
	CHECK_EQ(parse(line), 0);
	CHECK_EQ(m.text_len, 255);
	CHECK_STR(m.text, s);

	CHECK_EQ(qmp_quote(quoted, sizeof(quoted), "a\"b\\c\n\x01"), 0);
	CHECK_STR(quoted, "\"a\\\"b\\\\c\\n\\u0001\"");
	CHECK_EQ(qmp_quote(quoted, 3, ""), 0);
	CHECK_STR(quoted, "\"\"");
	/* "abc" needs 6 bytes with its NUL. */
	CHECK_EQ(qmp_quote(quoted, 6, "abc"), 0);
	CHECK_STR(quoted, "\"abc\"");
	CHECK_EQ(qmp_quote(quoted, 5, "abc"), -ENOSPC);
	CHECK_STR(quoted, "");
	CHECK_EQ(qmp_quote(quoted, 7, "\x1f"), -ENOSPC);
	CHECK_EQ(qmp_quote(quoted, 9, "\x1f"), 0);
	CHECK_EQ(qmp_quote(quoted, 2, ""), -ENOSPC);
	CHECK_EQ(qmp_quote(quoted, 0, "x"), -ENOSPC);
}

static size_t drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	return n;
}

static void test_execute(void)
{
	char buf[512], args[600];
	int sv[2];
	size_t n;

	pair(sv);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	CHECK_EQ(qmp_init(&q, sv[0]), 0);
	CHECK_EQ(qmp_execute(&q, "qmp_capabilities", NULL, NULL), 0);
	n = drain(sv[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	CHECK_STR(buf, "{\"execute\":\"qmp_capabilities\"}\n");

	CHECK_EQ(qmp_quote(buf, sizeof(buf), "info registers"), 0);
	snprintf(args, sizeof(args), "{\"command-line\":%s}", buf);
	CHECK_EQ(qmp_execute(&q, "human-monitor-command", args, "h\"1"), 0);
	CHECK_EQ(qmp_execute(&q, "query-status", NULL, "s1"), 0);
	n = drain(sv[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	CHECK_STR(buf, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info registers\"},"
		  "\"id\":\"h\\\"1\"}\n{\"execute\":\"query-status\",\"id\":\"s1\"}\n");
	qmp_fini(&q);
	close(sv[0]);
	close(sv[1]);
}

/*
 * add-fd's descriptor travels with the command's first bytes (SCM_RIGHTS), as
 * QEMU's monitor takes it: the peer receives an open descriptor of the same
 * file, and the text is the command; on a pipe, which cannot carry one, -ENOTSOCK.
 */
static void test_execute_fd(void)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char buf[256];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	struct stat a, b;
	int sv[2], p[2], got = -1, file = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	pair(sv);
	CHECK_EQ(qmp_init(&q, sv[0]), 0);
	CHECK_EQ(qmp_execute_fd(&q, "add-fd", "{\"fdset-id\":3}", "hand0", file), 0);
	n = recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":3},\"id\":\"hand0\"}\n");
	c = CMSG_FIRSTHDR(&mh);
	CHECK(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS);
	if (c)
		memcpy(&got, CMSG_DATA(c), sizeof(got));
	CHECK(got >= 0 && got != file);
	CHECK(fstat(got, &a) == 0 && fstat(file, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	if (got >= 0)
		close(got);
	qmp_fini(&q);
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ(qmp_init(&q, p[1]), 0);
	CHECK_EQ(qmp_execute_fd(&q, "add-fd", NULL, NULL, file), -ENOTSOCK);
	CHECK_EQ(qmp_execute(&q, "quit", NULL, NULL), 0);
	qmp_fini(&q);
	close(p[0]);
	close(p[1]);
	close(file);
}

/* The system call pid is blocked in (/proc/PID/syscall); -1 while it runs or once it is gone. */
static long blocked_in(pid_t pid)
{
	char path[64], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] >= '0' && buf[0] <= '9' ? strtol(buf, NULL, 10) : -1;
}

/* Until pid waits in poll(2) (true), or has ended (false). */
static bool wait_polling(pid_t pid)
{
	const struct timespec tick = { 0, 1000000 };

	while (waitpid(pid, NULL, WNOHANG) == 0) {
		long nr = blocked_in(pid);

		if (nr == SYS_poll || nr == SYS_ppoll)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

/*
 * A command far bigger than the socket buffer: EAGAIN, poll, partial writes.
 * A child writes it; the reader starts only once the writer waits in poll,
 * so the buffer was full.
 */
static void test_execute_big(void)
{
	size_t an = 4 << 20, want = an + 40 + 16, got = 0;
	char *args = malloc(an + 16), buf[65536];
	int sv[2], status, nl = 0;
	pid_t pid;

	pair(sv);
	memcpy(args, "{\"k\":\"", 6);
	memset(args + 6, 'v', an - 8);
	strcpy(args + an - 2, "\"}");
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		if (qmp_init(&q, sv[0]) || qmp_execute(&q, "x", args, "big") || qmp_execute(&q, "y", NULL, NULL))
			_exit(1);
		_exit(0);
	}
	close(sv[0]);
	CHECK(wait_polling(pid));
	for (ssize_t r; (r = read(sv[1], buf, sizeof(buf))) > 0;)
		for (ssize_t i = 0; i < r; i++, got++)
			nl += buf[i] == '\n';
	CHECK_EQ(nl, 2);
	CHECK_EQ(got, want);
	close(sv[1]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(args);

	/* A closed peer: -EPIPE, and no SIGPIPE. */
	pair(sv);
	close(sv[1]);
	CHECK_EQ(qmp_init(&q, sv[0]), 0);
	CHECK_EQ(qmp_execute(&q, "query-status", NULL, NULL), -EPIPE);
	qmp_fini(&q);
	close(sv[0]);
}

/*
 * A peer that never reads (small buffers, so they fill at once): the command
 * gives up with -ETIMEDOUT after QMP_WRITE_MS, on a blocking socket too.
 */
static void test_execute_deadline(void)
{
	size_t an = 1 << 20;
	char *args = malloc(an + 16);
	int sv[2], small = 4096;

	memcpy(args, "{\"k\":\"", 6);
	memset(args + 6, 'v', an - 8);
	strcpy(args + an - 2, "\"}");
	pair(sv);
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	CHECK_EQ(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	CHECK_EQ(qmp_init(&q, sv[0]), 0);
	CHECK_EQ(qmp_execute(&q, "x", args, "big"), -ETIMEDOUT);
	fcntl(sv[0], F_SETFL, 0);
	CHECK_EQ(qmp_execute(&q, "query-status", NULL, "s"), -ETIMEDOUT);
	qmp_fini(&q);
	close(sv[0]);
	close(sv[1]);
	free(args);
}

int main(void)
{
	if (qmp_init(&q, -1))
		return 2;
	test_examples();
	test_truncation();
	test_big();
	test_cpu_halted();
	test_line_limits();
	test_hostile();
	test_prefixes_and_mutations();
	test_quote();
	qmp_fini(&q);
	test_split();
	test_execute();
	test_execute_fd();
	test_execute_big();
	test_execute_deadline();
	return check_done();
}
