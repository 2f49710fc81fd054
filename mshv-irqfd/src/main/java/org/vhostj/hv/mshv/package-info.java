/**
 * MSHV ({@code /dev/mshv}, the Microsoft Hypervisor root-partition driver): partitions wired through the code
 * paths shared with KVM. Layouts and request numbers ({@link org.vhostj.hv.mshv.MshvUapi}) are tested against
 * the mainline uapi header; the device code is unverified on real MSHV hardware. See the parent package.
 */
package org.vhostj.hv.mshv;
