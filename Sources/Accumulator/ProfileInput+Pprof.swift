import Pprof

extension ProfileInput {
    /// Copies a decoded profile's columns (capacity reused; strings stay views into the
    /// decoder's bytes, valid until its next `decode`).
    mutating func load(from d: PprofDecoder) {
        reset()
        for i in d.strings.indices { strings.append(d.string(i)) }
        for t in d.sampleTypes {
            sampleTypeType.append(t.type)
            sampleTypeUnit.append(t.unit)
        }
        // The decoder's columns are read once each: a property read per element cost a
        // retain and release of the whole array.
        let locationStarts = d.sampleLocationStarts, valueStarts = d.sampleValueStarts, labelStarts = d.sampleLabelStarts
        for s in 0 ..< d.sampleCount {
            sampleLocationStart.append(Int32(locationStarts[s]))
            sampleLocationCount.append(Int32(locationStarts[s + 1] - locationStarts[s]))
            sampleValueCount.append(Int32(valueStarts[s + 1] - valueStarts[s]))
            sampleLabelStart.append(Int32(labelStarts[s]))
            sampleLabelCount.append(Int32(labelStarts[s + 1] - labelStarts[s]))
        }
        sampleLocationIDs.append(contentsOf: d.sampleLocationIDs)
        sampleValues.append(contentsOf: d.sampleValues)
        for l in d.sampleLabels {
            labelKey.append(l.key)
            labelStr.append(l.str)
            labelNumUnit.append(l.numUnit)
        }
        for m in d.mappings {
            mappingID.append(m.id)
            mappingMemoryStart.append(m.memoryStart)
            mappingMemoryLimit.append(m.memoryLimit)
            mappingFileOffset.append(m.fileOffset)
            mappingFilename.append(m.filename)
            mappingBuildID.append(m.buildID)
            mappingFlags.append((m.hasFunctions ? 1 : 0) | (m.hasFilenames ? 2 : 0)
                | (m.hasLineNumbers ? 4 : 0) | (m.hasInlineFrames ? 8 : 0))
        }
        for l in d.locations {
            locationID.append(l.id)
            locationMappingID.append(l.mappingID)
            locationAddress.append(l.address)
            locationIsFolded.append(l.isFolded)
            locationLineStart.append(Int32(l.lineStart))
            locationLineCount.append(Int32(l.lineCount))
        }
        for l in d.lines {
            lineFunctionID.append(l.functionID)
            lineNumber.append(l.line)
        }
        for f in d.functions {
            functionID.append(f.id)
            functionName.append(f.name)
            functionSystemName.append(f.systemName)
            functionFilename.append(f.filename)
            functionStartLine.append(f.startLine)
        }
        dropFrames = d.dropFrames
        keepFrames = d.keepFrames
        timeNanos = d.timeNanos
        durationNanos = d.durationNanos
        if let pt = d.periodType {
            hasPeriodType = true
            periodTypeType = pt.type
            periodTypeUnit = pt.unit
        }
        comments.append(contentsOf: d.comments)
        defaultSampleType = d.defaultSampleType
    }
}
