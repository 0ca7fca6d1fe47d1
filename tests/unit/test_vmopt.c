/* test_vmopt.c: the shared guest-setting rules (VM name, vCPUs, network, accelerator, loader timeout) at their documented edges. */
#include <string.h>

#include "check.h"
#include "vmopt.h"

static void test_name(void)
{
	char n64[65], n65[66];

	memset(n64, 'a', 64);
	n64[64] = '\0';
	memset(n65, 'a', 65);
	n65[65] = '\0';
	CHECK(vmopt_name_valid("vm1"));
	CHECK(vmopt_name_valid("A.b_c-9"));
	CHECK(vmopt_name_valid(n64));
	CHECK(!vmopt_name_valid(n65));
	CHECK(!vmopt_name_valid(""));
	CHECK(!vmopt_name_valid("."));
	CHECK(!vmopt_name_valid(".."));
	CHECK(!vmopt_name_valid(".hidden"));
	CHECK(!vmopt_name_valid("-v"));
	CHECK(!vmopt_name_valid("a/b"));
	CHECK(!vmopt_name_valid("a b"));
	CHECK(!vmopt_name_valid("a\033[2J"));
}

static void test_cpus(void)
{
	CHECK_EQ(vmopt_cpus("1"), 1);
	CHECK_EQ(vmopt_cpus("255"), 255);
	CHECK_EQ(vmopt_cpus("0"), -1);
	CHECK_EQ(vmopt_cpus("256"), -1);
	CHECK_EQ(vmopt_cpus("0255"), -1);
	CHECK_EQ(vmopt_cpus("-1"), -1);
	CHECK_EQ(vmopt_cpus("+2"), -1);
	CHECK_EQ(vmopt_cpus("2x"), -1);
	CHECK_EQ(vmopt_cpus(" 2"), -1);
	CHECK_EQ(vmopt_cpus(""), -1);
}

static void test_net(void)
{
	CHECK(vmopt_net_valid("none"));
	CHECK(vmopt_net_valid("user"));
	CHECK(vmopt_net_valid("tap:tap0"));
	CHECK(vmopt_net_valid("tap:0123456789abcde")); /* 15: IFNAMSIZ less its NUL */
	CHECK(!vmopt_net_valid("tap:0123456789abcdef"));
	CHECK(!vmopt_net_valid("tap:"));
	CHECK(!vmopt_net_valid("tap:a/b"));
	CHECK(!vmopt_net_valid("tap:a,b")); /* a comma would start another QEMU option */
	CHECK(!vmopt_net_valid("bridge"));
	CHECK(!vmopt_net_valid("None"));
	CHECK(!vmopt_net_valid(""));
}

static void test_accel(void)
{
	CHECK(vmopt_accel_valid("kvm"));
	CHECK(vmopt_accel_valid("tcg"));
	CHECK(!vmopt_accel_valid("KVM"));
	CHECK(!vmopt_accel_valid("xen"));
	CHECK(!vmopt_accel_valid(""));
}

static void test_loader_timeout(void)
{
	CHECK_EQ(vmopt_loader_timeout("1"), 1);
	CHECK_EQ(vmopt_loader_timeout("86400"), 86400);
	CHECK_EQ(vmopt_loader_timeout("0"), -1);
	CHECK_EQ(vmopt_loader_timeout("86401"), -1);
	CHECK_EQ(vmopt_loader_timeout("099999"), -1);
	CHECK_EQ(vmopt_loader_timeout("-1"), -1);
	CHECK_EQ(vmopt_loader_timeout("+2"), -1);
	CHECK_EQ(vmopt_loader_timeout("2s"), -1);
	CHECK_EQ(vmopt_loader_timeout("1.5"), -1);
	CHECK_EQ(vmopt_loader_timeout("abc"), -1);
	CHECK_EQ(vmopt_loader_timeout(""), -1);
}

int main(void)
{
	test_name();
	test_cpus();
	test_net();
	test_accel();
	test_loader_timeout();
	return check_done();
}
