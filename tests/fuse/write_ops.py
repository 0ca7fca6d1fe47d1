#!/usr/bin/env python3
# write_ops.py: write-type system calls on a kvmload-fs view, each printed with the errno it got.
# usage: write_ops.py DIR TARGET FILE SRC EMPTYDIR OP...
#   DIR       where new names are made
#   TARGET    what is changed in place (a file, or a by-label link on the view's root)
#   FILE SRC  regular files, FILE to write, SRC to copy from ("-": none)
#   EMPTYDIR  a directory to remove
# Prints "OP ERRNO" for each OP in order, "OP ok" when it succeeded.  An OP that needs a
# file open for writing opens it before any file read-only, so that a read open the
# daemon answers (zero-message opens) never comes before the write open under test.
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
AT_FDCWD = -100
RENAME_NOREPLACE = 1


def libc_check(r):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def run(op, a, fds):
    def opened(path, flags):
        fd = os.open(path, flags, 0o644)
        fds.append(fd)
        return fd

    new = os.path.join(a['dir'], 'new-' + op)
    target = a['target']
    if op == 'open-wronly':
        opened(a['file'], os.O_WRONLY)
    elif op == 'open-rdwr':
        opened(a['file'], os.O_RDWR)
    elif op == 'open-trunc':
        opened(a['file'], os.O_RDONLY | os.O_TRUNC)
    elif op == 'read':
        os.read(opened(a['file'], os.O_RDONLY), 1)
    elif op == 'write':
        os.write(opened(a['file'], os.O_WRONLY | os.O_APPEND), b'x')
    elif op == 'fallocate':
        # fallocate(2) itself: glibc's posix_fallocate would fall back to writes.
        libc_check(libc.fallocate(opened(a['file'], os.O_RDWR), 0, 0, 4096))
    elif op == 'copy_file_range':
        dst = opened(a['file'], os.O_WRONLY)
        os.copy_file_range(opened(a['src'], os.O_RDONLY), dst, 4)
    elif op == 'truncate':
        os.truncate(a['file'], 0)
    elif op == 'create':
        opened(new, os.O_CREAT | os.O_WRONLY)
    elif op == 'create-excl':
        opened(new, os.O_CREAT | os.O_EXCL | os.O_RDWR)
    elif op == 'mknod':
        os.mknod(new, 0o644 | 0o100000)
    elif op == 'mkfifo':
        os.mkfifo(new)
    elif op == 'mkdir':
        os.mkdir(new)
    elif op == 'rmdir':
        os.rmdir(a['empty'])
    elif op == 'symlink':
        os.symlink('x', new)
    elif op == 'link':
        os.link(target, new, follow_symlinks=False)
    elif op == 'unlink':
        os.unlink(target)
    elif op == 'rename':
        os.rename(target, new)
    elif op == 'rename-noreplace':
        libc_check(libc.renameat2(AT_FDCWD, target.encode(), AT_FDCWD, new.encode(), RENAME_NOREPLACE))
    elif op == 'chmod':
        os.chmod(target, 0o777)
    elif op == 'chown':
        os.lchown(target, 5, 5)
    elif op == 'utimes':
        os.utime(target, (1, 1), follow_symlinks=False)
    elif op == 'setxattr':
        os.setxattr(target, 'user.x', b'1', follow_symlinks=False)
    elif op == 'removexattr':
        os.removexattr(target, 'user.x', follow_symlinks=False)
    else:
        sys.exit('write_ops.py: unknown operation ' + op)


def main():
    if len(sys.argv) < 6:
        sys.exit('usage: write_ops.py DIR TARGET FILE SRC EMPTYDIR OP...')
    a = dict(zip(['dir', 'target', 'file', 'src', 'empty'], sys.argv[1:6]))
    for op in sys.argv[6:]:
        fds = []
        try:
            run(op, a, fds)
            res = 'ok'
        except OSError as e:
            res = errno.errorcode.get(e.errno, str(e.errno))
        finally:
            for fd in fds:
                os.close(fd)
        print(op, res, flush=True)


main()
