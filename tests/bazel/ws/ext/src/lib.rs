pub fn ext() {}
