pub fn widen(x: u8) -> u32 {
        unsafe { core::mem::transmute::<[u8; 4], u32>([x, 0, 0, 0]) }
}
