// The one call Hounsfield makes into GDCM: one frame of 12-bit lossy JPEG (JPEG
// extended, process 4) decoded by GDCM's 12-bit IJG codec into native samples, through
// GDCM's own image API, against the distribution's libgdcm (libgdcm-dev on Debian and
// Ubuntu). The Rust side (src/dicom/jpeg12/gdcm.rs) checks the frame's markers and sizes
// the output first; this side refuses any length that differs from what GDCM would
// write, and lets no C++ exception cross into Rust.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "gdcmDataElement.h"
#include "gdcmFragment.h"
#include "gdcmImage.h"
#include "gdcmPhotometricInterpretation.h"
#include "gdcmPixelFormat.h"
#include "gdcmSequenceOfFragments.h"
#include "gdcmSmartPointer.h"
#include "gdcmTag.h"
#include "gdcmTransferSyntax.h"

// The outcomes, as src/dicom/jpeg12/gdcm.rs names them.
enum Jpeg12Outcome {
  DECODED = 0,
  UNKNOWN_PHOTOMETRIC = 1,
  OUTPUT_SIZE_DIFFERS = 2,
  CORRUPT = 3,
  THREW = 4,
  FRAME_TOO_LONG = 5,
};

extern "C" int hounsfield_gdcm_decode_jpeg12(
    const uint8_t *frame, size_t frame_len, uint32_t columns, uint32_t rows,
    const char *photometric, uint16_t samples_per_pixel, uint16_t bits_allocated,
    uint16_t bits_stored, uint16_t high_bit, uint16_t pixel_representation,
    uint8_t *out, size_t out_len, size_t *gdcm_len) {
  try {
    // A fragment's length is a 32-bit value, 0xFFFFFFFF meaning "undefined".
    if (frame_len >= 0xFFFFFFFEu) {
      return FRAME_TOO_LONG;
    }
    gdcm::PhotometricInterpretation::PIType pi =
        gdcm::PhotometricInterpretation::GetPIType(photometric);
    if (pi == gdcm::PhotometricInterpretation::UNKNOWN ||
        pi == gdcm::PhotometricInterpretation::PI_END) {
      return UNKNOWN_PHOTOMETRIC;
    }

    // The frame as the one fragment of encapsulated pixel data. GDCM's images hold
    // their sequence of fragments through its reference-counted pointer.
    gdcm::SmartPointer<gdcm::SequenceOfFragments> fragments =
        new gdcm::SequenceOfFragments();
    gdcm::Fragment fragment;
    fragment.SetByteValue(reinterpret_cast<const char *>(frame),
                          gdcm::VL(static_cast<uint32_t>(frame_len)));
    fragments->AddFragment(fragment);
    gdcm::DataElement pixel_data(gdcm::Tag(0x7fe0, 0x0010));
    pixel_data.SetValue(*fragments);

    const unsigned int dimensions[3] = {columns, rows, 1};
    gdcm::Image image;
    image.SetNumberOfDimensions(3);
    image.SetDimensions(dimensions);
    image.SetDataElement(pixel_data);
    image.SetPhotometricInterpretation(gdcm::PhotometricInterpretation(pi));
    image.SetTransferSyntax(
        gdcm::TransferSyntax(gdcm::TransferSyntax::JPEGExtendedProcess2_4));
    image.SetPixelFormat(gdcm::PixelFormat(samples_per_pixel, bits_allocated,
                                           bits_stored, high_bit,
                                           pixel_representation));

    *gdcm_len = image.GetBufferLength();
    if (*gdcm_len != out_len) {
      return OUTPUT_SIZE_DIFFERS;
    }
    return image.GetBuffer(reinterpret_cast<char *>(out)) ? DECODED : CORRUPT;
  } catch (...) {
    return THREW;
  }
}
