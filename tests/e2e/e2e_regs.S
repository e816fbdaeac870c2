/* e2e_regs.S - e2e_snap_holding_rbx: allocates a block (site_reg), keeps
 * the only pointer to it in rbx while e2e_reach_snapshot takes an API
 * snapshot, and returns it. A callee-saved register: whatever the
 * snapshot's code does, the value is back in rbx when it returns, and
 * until the shim saves it, in no memory the scan reads. */
        .text
        .globl  e2e_snap_holding_rbx
        .type   e2e_snap_holding_rbx, @function
e2e_snap_holding_rbx:
        push    %rbx
        call    site_reg
        mov     %rax, %rbx
        xor     %eax, %eax
        call    e2e_reach_snapshot
        mov     %rbx, %rax
        pop     %rbx
        ret
        .size   e2e_snap_holding_rbx, .-e2e_snap_holding_rbx

/* Threads that keep the only pointer to a block in a register while the
 * snapshot is taken (precise mode, HEAPSNAP_SCAN_REGISTERS=1). Each
 * allocates its block, clears the 32 KiB below its stack pointer (malloc's
 * dead frames hold copies) and every other register, sets *ready, and
 * then holds the block in its register alone:
 *   e2e_hold_r15(ready, stop)   r15, spinning on sched_yield until *stop
 *   e2e_hold_xmm0(ready, stop)  xmm0, the same
 *   e2e_hold_r12(ready, fd)     r12, blocked in read(fd) (one byte)
 * Each returns its block. */
        .macro  SCRUB
        lea     -32768(%rsp), %rdi
        mov     $4096, %ecx
        xor     %eax, %eax
        rep stosq
        xor     %ecx, %ecx
        xor     %edx, %edx
        xor     %esi, %esi
        xor     %edi, %edi
        xor     %r8d, %r8d
        xor     %r9d, %r9d
        xor     %r10d, %r10d
        xor     %r11d, %r11d
        pxor    %xmm1, %xmm1
        pxor    %xmm2, %xmm2
        pxor    %xmm3, %xmm3
        pxor    %xmm4, %xmm4
        pxor    %xmm5, %xmm5
        pxor    %xmm6, %xmm6
        pxor    %xmm7, %xmm7
        pxor    %xmm8, %xmm8
        pxor    %xmm9, %xmm9
        pxor    %xmm10, %xmm10
        pxor    %xmm11, %xmm11
        pxor    %xmm12, %xmm12
        pxor    %xmm13, %xmm13
        pxor    %xmm14, %xmm14
        pxor    %xmm15, %xmm15
        .endm

        /* Saves reg, rbx and rbp (the stack stays 16-byte aligned for the
         * call); ready in rbx, stop (or fd) in rbp; calls site. */
        .macro  ENTER reg, site
        push    \reg
        push    %rbx
        push    %rbp
        mov     %rdi, %rbx
        mov     %rsi, %rbp
        call    \site
        .endm

        .macro  LEAVE reg
        pop     %rbp
        pop     %rbx
        pop     \reg
        ret
        .endm

        /* Sets *ready, then spins on sched_yield until *stop. */
        .macro  SPIN
        movl    $1, (%rbx)
1:      mov     $24, %eax               /* sched_yield */
        syscall
        cmpl    $0, (%rbp)
        je      1b
        .endm

        .text
        .globl  e2e_hold_r15
        .type   e2e_hold_r15, @function
e2e_hold_r15:
        ENTER   %r15, site_hold_r15
        mov     %rax, %r15
        SCRUB
        pxor    %xmm0, %xmm0
        SPIN
        mov     %r15, %rax
        LEAVE   %r15
        .size   e2e_hold_r15, .-e2e_hold_r15

        .globl  e2e_hold_xmm0
        .type   e2e_hold_xmm0, @function
e2e_hold_xmm0:
        ENTER   %r15, site_hold_xmm0
        movq    %rax, %xmm0
        SCRUB
        SPIN
        movq    %xmm0, %rax
        LEAVE   %r15
        .size   e2e_hold_xmm0, .-e2e_hold_xmm0

        .globl  e2e_hold_r12
        .type   e2e_hold_r12, @function
e2e_hold_r12:
        ENTER   %r12, site_hold_r12
        mov     %rax, %r12
        SCRUB
        pxor    %xmm0, %xmm0
        movl    $1, (%rbx)
        sub     $16, %rsp
2:      xor     %eax, %eax              /* read(fd, rsp, 1) */
        mov     %ebp, %edi
        mov     %rsp, %rsi
        mov     $1, %edx
        syscall
        cmp     $-4, %rax               /* EINTR */
        je      2b
        add     $16, %rsp
        mov     %r12, %rax
        LEAVE   %r12
        .size   e2e_hold_r12, .-e2e_hold_r12
        .section .note.GNU-stack,"",@progbits
