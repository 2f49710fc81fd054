/**
 * KVM ({@code /dev/kvm}): {@link org.vhostj.hv.kvm.Kvm} and {@link org.vhostj.hv.kvm.KvmVm} implement the
 * shared wiring, and {@link org.vhostj.hv.kvm.KvmVcpu} plus {@link org.vhostj.hv.kvm.TinyGuest} run a few bytes
 * of guest code so tests and the harness can ring real doorbells. Layouts and request numbers are in
 * {@link org.vhostj.hv.kvm.KvmUapi}. Verified on the project's machines; see the parent package.
 */
package org.vhostj.hv.kvm;
