/* freebsd_part.h: FreeBSD's partition types, one owner: what kvmload-fs names and what kvmload-hotplug and its udev rule take for a FreeBSD disk. */
#ifndef KVMLOAD_FREEBSD_PART_H
#define KVMLOAD_FREEBSD_PART_H

/*
 * meson.build reads the "#define NAME VALUE..." lines here (strings and
 * names defined above them, nothing else on the line) for
 * 70-kvmload.rules: keep each on one line, comments above.
 */

/* GPT partition type GUIDs, as libblkid writes them (ID_PART_ENTRY_TYPE). */
#define FREEBSD_GPT_BOOT "83bd6b9d-7f41-11dc-be0b-001560b84f0f"
/* gpart's "freebsd": a BSD label inside */
#define FREEBSD_GPT_LABEL "516e7cb4-6ecf-11d6-8ff8-00022d09712b"
#define FREEBSD_GPT_SWAP "516e7cb5-6ecf-11d6-8ff8-00022d09712b"
#define FREEBSD_GPT_UFS "516e7cb6-6ecf-11d6-8ff8-00022d09712b"
#define FREEBSD_GPT_VINUM "516e7cb8-6ecf-11d6-8ff8-00022d09712b"
#define FREEBSD_GPT_ZFS "516e7cba-6ecf-11d6-8ff8-00022d09712b"
#define FREEBSD_GPT_NANDFS "74ba7dd9-a689-11e1-bd04-00e081286acf"

/* The MBR slice type, and as libblkid spells it (kvmload-fs prints it the same way). */
#define FREEBSD_MBR_TYPE 0xa5
#define FREEBSD_MBR_TYPE_ID "0xa5"

/*
 * What makes a partition a FreeBSD disk's for kvmload-hotplug
 * (dev_is_freebsd) and 70-kvmload.rules, as udev's "|" alternatives of
 * ID_PART_ENTRY_TYPE: freebsd-boot, -ufs, -zfs and freebsd (GPT), the
 * FreeBSD MBR slice.
 */
#define FREEBSD_PART_HOTPLUG FREEBSD_GPT_BOOT "|" FREEBSD_GPT_UFS "|" FREEBSD_GPT_ZFS "|" FREEBSD_GPT_LABEL "|" FREEBSD_MBR_TYPE_ID

#endif
