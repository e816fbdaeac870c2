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
        .section .note.GNU-stack,"",@progbits
