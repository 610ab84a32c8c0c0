//! Device settings kept in the database: `hallmark photo-size`.

use hallmark_store::Access;

use crate::{open_db, Db};

/// `hallmark photo-size --db DB [PX | off]`: with no value, shows the setting.
pub(crate) fn photo_size(db: &Db, value: Option<&str>) -> Result<(), String> {
    let Some(value) = value else {
        let store = open_db(db, Access::ReadOnly)?;
        match store.photo_long_side().map_err(|e| e.to_string())? {
            Some(px) => outln!("照片长边压缩至 {px} 像素（原图哈希随照片记录）"),
            None => outln!("照片按相机原图保存（未压缩）"),
        }
        return Ok(());
    };
    let px = match value {
        "off" => None,
        v => Some(v.parse::<u32>().map_err(|_| format!("'{v}' is not a number of pixels (e.g. 2048) or 'off'"))?),
    };
    let mut store = open_db(db, Access::Existing)?;
    store.set_photo_long_side(px).map_err(|e| e.to_string())?;
    match px {
        Some(px) => outln!("此后拍摄的照片长边压缩至 {px} 像素"),
        None => outln!("此后拍摄的照片按相机原图保存"),
    }
    Ok(())
}
